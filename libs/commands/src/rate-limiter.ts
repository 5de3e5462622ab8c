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
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /**
   * For costs known only afterwards (the bytes of an answer, spent with `spend`): 0 while
   * the bucket holds anything, else the ms until it does again.
   */
  ready(now = Date.now()): number {
    this.refill(now);
    return this.tokens > 0 ? 0 : Math.max(1, Math.ceil((-this.tokens / this.rate) * 1000));
  }

  /** Spends `n` tokens, into debt if need be: the next `ready` waits until it is paid back. */
  spend(n: number, now = Date.now()): void {
    this.refill(now);
    this.tokens -= n;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
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
  /** Bytes of query answers a second, and saved up: what a cheap request for a large answer may cost. */
  answerRate: number;
  answerBurst: number;
}

/** A user's buckets on this gateway. */
export interface Buckets {
  send: TokenBucket;
  other: TokenBucket;
  answer: TokenBucket;
}

/**
 * One connection's buckets, each made full at its first use: a bucket never used is full,
 * so an idle connection holds none (three fewer objects on each of thousands of sockets).
 */
export type ConnectionBuckets = Partial<Buckets>;

/** What a user's connections on this gateway share: three times one connection's budget. */
const PER_USER_FACTOR = 3;

/**
 * Limits per connection and per user, for sends and for every other event. Per-user
 * buckets are kept per gateway: a user spread over several gateways gets each one's budget.
 */
export class RateLimits {
  private readonly users = new Map<string, Buckets>();

  constructor(private readonly settings: RateSettings) {}

  forConnection(): ConnectionBuckets {
    return {};
  }

  /** 0 when allowed, else the ms to wait; the connection's own buckets are checked first. */
  check(userId: string, connection: ConnectionBuckets, kind: 'send' | 'other', now = Date.now()): number {
    const own = this.own(connection, kind, now).take(now);
    if (own > 0) return own;
    return this.user(userId, now)[kind].take(now);
  }

  /** 0 when a query may run, else the ms until the answers already sent are paid for. */
  answerWait(userId: string, connection: ConnectionBuckets, now = Date.now()): number {
    // A connection that was never answered owes nothing.
    const own = connection.answer?.ready(now) ?? 0;
    return Math.max(own, this.user(userId, now).answer.ready(now));
  }

  /** What an answer cost, once its size is known. */
  spendAnswer(userId: string, connection: ConnectionBuckets, bytes: number, now = Date.now()): void {
    this.own(connection, 'answer', now).spend(bytes, now);
    this.user(userId, now).answer.spend(bytes, now);
  }

  /** Forgets users whose buckets are full again, so the map does not grow with every user ever seen. */
  prune(now = Date.now()): void {
    for (const [userId, b] of this.users) if (b.send.idle(now) && b.other.idle(now) && b.answer.idle(now)) this.users.delete(userId);
  }

  private user(userId: string, now: number): Buckets {
    let user = this.users.get(userId);
    if (!user) this.users.set(userId, (user = this.buckets(PER_USER_FACTOR, now)));
    return user;
  }

  private own(connection: ConnectionBuckets, kind: keyof Buckets, now: number): TokenBucket {
    return (connection[kind] ??= this.bucket(kind, 1, now));
  }

  private buckets(factor: number, now: number): Buckets {
    return { send: this.bucket('send', factor, now), other: this.bucket('other', factor, now), answer: this.bucket('answer', factor, now) };
  }

  private bucket(kind: keyof Buckets, factor: number, now: number): TokenBucket {
    const s = this.settings;
    const [rate, burst] = kind === 'send' ? [s.sendRate, s.sendBurst] : kind === 'other' ? [s.eventRate, s.eventBurst] : [s.answerRate, s.answerBurst];
    return new TokenBucket(rate * factor, burst * factor, now);
  }
}

/** How often `PerUserBudget` looks for users to forget. */
const PRUNE_EVERY_MS = 10_000;

/**
 * One bucket per user, for commands that come without a connection (the server API's
 * sends, by `senderId`): each user gets what one connection gets. Users whose bucket is
 * full again are forgotten, at most every PRUNE_EVERY_MS, as part of a `take`.
 */
export class PerUserBudget {
  private readonly users = new Map<string, TokenBucket>();
  private prunedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.prunedAt = now;
  }

  /** 0 when a token was taken, else the ms to wait. */
  take(userId: string, now = Date.now()): number {
    if (now - this.prunedAt >= PRUNE_EVERY_MS) this.prune(now);
    let bucket = this.users.get(userId);
    if (!bucket) this.users.set(userId, (bucket = new TokenBucket(this.rate, this.burst, now)));
    return bucket.take(now);
  }

  /** Users remembered (owing something). */
  get size(): number {
    return this.users.size;
  }

  private prune(now: number): void {
    this.prunedAt = now;
    for (const [userId, bucket] of this.users) if (bucket.idle(now)) this.users.delete(userId);
  }
}
