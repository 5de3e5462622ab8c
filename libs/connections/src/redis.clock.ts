import type { Cluster, Redis } from 'ioredis';

/** How often the offset to Redis's clock is measured again. */
const RESYNC_MS = 10_000;

/**
 * Lease times are compared across processes (a gateway writes an expiry, another sweeps
 * it, the projector routes by it), so they are read on one clock: Redis's. A process
 * whose own clock is off (minutes, after a bad NTP step) would otherwise sweep every
 * other gateway's leases as expired, or write leases that outlive it by the skew.
 * `now()` is this process's clock corrected by the offset measured with `TIME`.
 */
export class RedisClock {
  private offsetMs = 0;
  private measuredAt = Number.NEGATIVE_INFINITY;
  private measuring?: Promise<void>;

  constructor(private readonly redis: Redis | Cluster) {}

  /** Milliseconds since the epoch on Redis's clock. */
  async now(): Promise<number> {
    if (Date.now() - this.measuredAt > RESYNC_MS || Date.now() < this.measuredAt) await this.measure();
    return Date.now() + this.offsetMs;
  }

  private measure(): Promise<void> {
    this.measuring ??= (async () => {
      try {
        const before = Date.now();
        const [seconds, micros] = await this.redis.time();
        const after = Date.now();
        // The reply was taken about halfway through the round trip.
        this.offsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Math.round((before + after) / 2);
        this.measuredAt = after;
      } finally {
        this.measuring = undefined;
      }
    })();
    return this.measuring;
  }
}
