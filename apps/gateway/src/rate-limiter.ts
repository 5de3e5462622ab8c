/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up. `take` answers how
 * long to wait (ms) when the bucket is empty, 0 when a token was taken.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now = Date.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** Full again: nothing to remember. */
  idle(now = Date.now()): boolean {
    return this.tokens + ((now - this.at) / 1000) * this.rate >= this.burst;
  }
}

export interface RateSettings {
  sendRate: number;
  sendBurst: number;
  eventRate: number;
  eventBurst: number;
}

/** What a user's connections on this gateway share: three times one connection's budget. */
const PER_USER_FACTOR = 3;

/**
 * Limits per connection and per user, for sends and for every other event. Per-user
 * buckets are kept per gateway: a user spread over several gateways gets each one's budget.
 */
export class RateLimits {
  private readonly users = new Map<string, { send: TokenBucket; other: TokenBucket }>();

  constructor(private readonly settings: RateSettings) {}

  forConnection(): { send: TokenBucket; other: TokenBucket } {
    const s = this.settings;
    return { send: new TokenBucket(s.sendRate, s.sendBurst), other: new TokenBucket(s.eventRate, s.eventBurst) };
  }

  /** 0 when allowed, else the ms to wait; the connection's own buckets are checked first. */
  check(userId: string, connection: { send: TokenBucket; other: TokenBucket }, kind: 'send' | 'other', now = Date.now()): number {
    const own = connection[kind].take(now);
    if (own > 0) return own;
    let user = this.users.get(userId);
    if (!user) {
      const s = this.settings;
      user = {
        send: new TokenBucket(s.sendRate * PER_USER_FACTOR, s.sendBurst * PER_USER_FACTOR, now),
        other: new TokenBucket(s.eventRate * PER_USER_FACTOR, s.eventBurst * PER_USER_FACTOR, now),
      };
      this.users.set(userId, user);
    }
    return user[kind].take(now);
  }

  /** Forgets users whose buckets are full again, so the map does not grow with every user ever seen. */
  prune(now = Date.now()): void {
    for (const [userId, b] of this.users) if (b.send.idle(now) && b.other.idle(now)) this.users.delete(userId);
  }
}
