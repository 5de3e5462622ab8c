import { PerUserBudget, RateLimits, TokenBucket } from './rate-limiter';

const settings = { sendRate: 10, sendBurst: 10, eventRate: 10, eventBurst: 10, answerRate: 1_000, answerBurst: 2_000 };

describe('TokenBucket for costs known afterwards', () => {
  it('admits while anything is left, then waits until the debt is paid back', () => {
    const b = new TokenBucket(1_000, 2_000, 0);
    expect(b.ready(0)).toBe(0);
    b.spend(5_000, 0); // one large answer goes through whole, into debt
    expect(b.ready(0)).toBe(3_000);
    expect(b.ready(2_999)).toBe(1);
    expect(b.ready(3_001)).toBe(0);
  });

  it('saves up no more than its burst', () => {
    const b = new TokenBucket(1_000, 2_000, 0);
    b.spend(2_000, 1_000_000); // a long idle time is worth one burst, not more
    expect(b.ready(1_000_000)).toBeGreaterThan(0);
  });
});

describe('RateLimits answer bytes', () => {
  it('holds back a connection that was answered more than its budget, not its neighbours', () => {
    const limits = new RateLimits(settings);
    const greedy = limits.forConnection();
    const other = limits.forConnection();
    limits.spendAnswer('u', greedy, 4_000, 0);
    expect(limits.answerWait('u', greedy, 0)).toBe(2_000);
    expect(limits.answerWait('v', other, 0)).toBe(0);
  });

  it('shares a budget of three connections between all of a user\'s connections', () => {
    const limits = new RateLimits(settings);
    const conns = [0, 1, 2, 3].map(() => limits.forConnection());
    for (const c of conns.slice(0, 2)) limits.spendAnswer('u', c, 2_000, 0);
    expect(limits.answerWait('u', conns[3]!, 0)).toBe(0);
    limits.spendAnswer('u', conns[2]!, 2_000, 0);
    // Each connection has spent only its own burst, but together they spent the user's.
    expect(limits.answerWait('u', conns[3]!, 0)).toBeGreaterThan(0);
  });

  it('forgets a user only once its answer budget is full again', () => {
    const limits = new RateLimits(settings);
    const c = limits.forConnection();
    limits.spendAnswer('u', c, 12_000, 0);
    limits.prune(1_000);
    // Still owing: remembered, so a new connection of the same user waits too.
    expect(limits.answerWait('u', limits.forConnection(), 1_000)).toBeGreaterThan(0);
  });
});

describe('RateLimits per connection', () => {
  it('holds no bucket for a connection that sent nothing, and gives it a full burst at its first event however late', () => {
    const limits = new RateLimits(settings);
    const idle = limits.forConnection();
    expect(idle).toEqual({});
    expect(limits.answerWait('u', idle, 0)).toBe(0);
    // Ten events of the burst (the user's own budget is three times larger), then the rate.
    const at = 3_600_000;
    expect(Array.from({ length: 10 }, () => limits.check('u', idle, 'other', at))).toEqual(Array(10).fill(0));
    expect(limits.check('u', idle, 'other', at)).toBe(100);
    expect(Object.keys(idle)).toEqual(['other']);
    // Sends have a bucket of their own, made at the first send.
    expect(limits.check('u', idle, 'send', at)).toBe(0);
  });
});

describe('PerUserBudget', () => {
  it('gives each user one burst and the rate after it, apart from the others', () => {
    const budget = new PerUserBudget(2, 3, 0);
    expect([0, 0, 0].map(() => budget.take('u', 0))).toEqual([0, 0, 0]);
    expect(budget.take('u', 0)).toBe(500);
    expect(budget.take('v', 0)).toBe(0);
    expect(budget.take('u', 499)).toBeGreaterThan(0);
    expect(budget.take('u', 500)).toBe(0);
  });

  it('forgets users whose bucket is full again, and only those', () => {
    const budget = new PerUserBudget(1, 2, 0);
    budget.take('idle', 0);
    for (let i = 0; i < 5; i++) budget.take('busy', 9_000);
    expect(budget.size).toBe(2);
    // At 10 s "idle" has been full for a while; "busy" still owes.
    budget.take('busy', 10_000);
    expect(budget.size).toBe(1);
    expect(budget.take('busy', 10_000)).toBeGreaterThan(0);
  });
});
