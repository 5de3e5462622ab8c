import type { RedisClient } from '@chat/connections';
import type { Names } from '@chat/messaging';

/** One wake-up per user per window, claimed before sending. */
export interface WakeClaims {
  /** True if this call took the user's window (for the message at `seq`); false if it was held. */
  claim(userId: string, seq: number): Promise<boolean>;
}

/**
 * The window as a Redis key set with NX and an expiry of CHAT_PUSH_COALESCE: it outlives
 * the process, so a notifier that crashes after sending and gets the message again finds
 * the window taken and does not wake anyone twice.
 */
export class RedisWakeClaims implements WakeClaims {
  constructor(
    private readonly redis: RedisClient,
    private readonly names: Names,
    private readonly windowMs: number,
  ) {}

  async claim(userId: string, seq: number): Promise<boolean> {
    return (await this.redis.set(this.names.pushCoalesceKey(userId), String(seq), 'PX', this.windowMs, 'NX')) !== null;
  }
}
