import { CircuitBreakers } from './circuit.breaker';
import { PushSender, type Delivery } from './push.sender';
import type { PushProvider, SendResult, WakeUp } from './push.types';

/** Timers and a clock the test moves by hand. */
function fakeTime() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    /** Moves the clock, firing what falls due in order (and letting promises settle in between). */
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        await settle();
        const next = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = next.at;
        next.live = false;
        next.fn();
      }
      now = until;
      await settle();
    },
  };
}
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const wake = (userId: string, token = `https://hooks.example/${userId}`): WakeUp => ({ userId, deviceId: 'd1', platform: 'webhook', token, conversations: [], at: 'now' });

/** A provider whose answers per token are scripted; `hang` never answers. */
function scripted(script: Record<string, Array<SendResult | 'hang'>>) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const provider: PushProvider = {
    platform: 'webhook',
    endpointOf: (w) => new URL(w.token).host,
    send: async (w) => {
      calls.push(w.token);
      const next = script[w.token]?.shift() ?? { kind: 'sent' };
      if (next === 'hang') return new Promise<SendResult>(() => undefined);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return next;
    },
  };
  return { provider, calls, get maxInFlight() { return maxInFlight; } };
}

function collect(p: Promise<Delivery>) {
  const box: { value?: Delivery } = {};
  void p.then((d) => (box.value = d));
  return box;
}

describe('PushSender', () => {
  it('retries off the caller, with backoff, and resolves with the outcome and the tries', async () => {
    const time = fakeTime();
    const p = scripted({ 'https://hooks.example/a': [{ kind: 'retry', reason: '503' }, { kind: 'retry', reason: '503', afterMs: 7000 }, { kind: 'sent' }] });
    const sender = new PushSender({ attemptTimeoutMs: 5000, baseMs: 500, setTimer: time.setTimer, breakers: new CircuitBreakers({ now: time.now }) });
    const a = collect(sender.send(p.provider, wake('a')));
    await time.advance(0);
    expect(p.calls).toHaveLength(1);
    expect(sender.load).toEqual({ inFlight: 0, queued: 0, retrying: 1 });
    await time.advance(499);
    expect(p.calls).toHaveLength(1);
    await time.advance(1);
    expect(p.calls).toHaveLength(2);
    await time.advance(6999); // Retry-After: 7 s
    expect(p.calls).toHaveLength(2);
    await time.advance(1);
    expect(a.value).toEqual({ kind: 'sent', attempts: 3 });
  });

  it('gives up after the last try with its answer', async () => {
    const time = fakeTime();
    const retry: SendResult = { kind: 'retry', reason: '500' };
    const p = scripted({ 'https://hooks.example/a': [retry, retry, retry, retry, { kind: 'sent' }] });
    const sender = new PushSender({ attemptTimeoutMs: 5000, attempts: 4, baseMs: 100, setTimer: time.setTimer, breakers: new CircuitBreakers({ now: time.now, failuresToOpen: 10 }) });
    const a = collect(sender.send(p.provider, wake('a')));
    await time.advance(10_000);
    expect(a.value).toEqual({ kind: 'retry', reason: '500', attempts: 4 });
    expect(p.calls).toHaveLength(4);
  });

  it('bounds a try that never answers by its deadline, and a hanging endpoint holds at most perEndpoint slots', async () => {
    const time = fakeTime();
    const dead = Object.fromEntries(['d1', 'd2', 'd3', 'd4'].map((u) => [`https://dead.example/${u}`, ['hang' as const, 'hang' as const]]));
    const p = scripted(dead);
    const sender = new PushSender({ attemptTimeoutMs: 5000, concurrency: 4, perEndpoint: 2, attempts: 2, baseMs: 100, setTimer: time.setTimer, breakers: new CircuitBreakers({ now: time.now, failuresToOpen: 100 }) });
    const hung = ['d1', 'd2', 'd3', 'd4'].map((u) => collect(sender.send(p.provider, wake(u, `https://dead.example/${u}`))));
    const healthy = ['a', 'b', 'c'].map((u) => collect(sender.send(p.provider, wake(u))));
    await time.advance(0);
    // the healthy endpoint's wake-ups went at once beside the two hanging tries
    expect(healthy.map((h) => h.value)).toEqual([{ kind: 'sent', attempts: 1 }, { kind: 'sent', attempts: 1 }, { kind: 'sent', attempts: 1 }]);
    expect(sender.load).toEqual({ inFlight: 2, queued: 2, retrying: 0 });
    await time.advance(30_000);
    expect(hung.map((h) => h.value)).toEqual(Array(4).fill({ kind: 'retry', reason: 'network: timeout (no answer in 5000 ms)', attempts: 2 }));
  });

  it('opens the circuit of a failing endpoint: later wake-ups to it are not tried, others go on; a trial after the cool-down closes it', async () => {
    const time = fakeTime();
    const retry: SendResult = { kind: 'retry', reason: 'network: timeout' };
    const p = scripted({
      'https://dead.example/1': [retry], 'https://dead.example/2': [retry], 'https://dead.example/3': [retry, { kind: 'sent' }],
    });
    const breakers = new CircuitBreakers({ now: time.now, failuresToOpen: 3, coolDownMs: 30_000 });
    const sender = new PushSender({ attemptTimeoutMs: 5000, attempts: 1, setTimer: time.setTimer, breakers });
    const first = [1, 2, 3].map((n) => collect(sender.send(p.provider, wake(`u${n}`, `https://dead.example/${n}`))));
    await time.advance(0);
    expect(first.map((f) => f.value?.kind)).toEqual(['retry', 'retry', 'retry']);
    expect(breakers.state('dead.example')).toBe('open');

    const skipped = collect(sender.send(p.provider, wake('u4', 'https://dead.example/4')));
    const other = collect(sender.send(p.provider, wake('ok')));
    await time.advance(0);
    expect(skipped.value).toEqual({ kind: 'circuit_open', reason: 'dead.example failed 3 times in a row; next trial in 30 s', attempts: 0 });
    expect(other.value).toEqual({ kind: 'sent', attempts: 1 });
    expect(p.calls.filter((c) => c.includes('dead'))).toHaveLength(3);

    await time.advance(30_000);
    const trial = collect(sender.send(p.provider, wake('u3', 'https://dead.example/3')));
    await time.advance(0);
    expect(trial.value).toEqual({ kind: 'sent', attempts: 1 });
    expect(breakers.state('dead.example')).toBe('closed');
  });

  it('a retry whose endpoint opened meanwhile ends as circuit_open, naming its last answer', async () => {
    const time = fakeTime();
    const retry: SendResult = { kind: 'retry', reason: '503' };
    const p = scripted({ 'https://dead.example/1': [retry, retry], 'https://dead.example/2': [retry], 'https://dead.example/3': [retry] });
    const breakers = new CircuitBreakers({ now: time.now, failuresToOpen: 3, coolDownMs: 30_000 });
    const sender = new PushSender({ attemptTimeoutMs: 5000, attempts: 3, baseMs: 1000, setTimer: time.setTimer, breakers });
    const a = collect(sender.send(p.provider, wake('u1', 'https://dead.example/1')));
    await time.advance(0);
    const others = [2, 3].map((n) => collect(sender.send(p.provider, wake(`u${n}`, `https://dead.example/${n}`))));
    await time.advance(0);
    expect(breakers.state('dead.example')).toBe('open');
    await time.advance(1000);
    expect(a.value).toEqual({ kind: 'circuit_open', reason: expect.stringMatching(/^dead.example failed .* \(last try: 503\)$/), attempts: 1 });
    expect(others.map((o) => o.value?.kind)).toEqual(['circuit_open', 'circuit_open']);
  });

  it('never has more than `concurrency` tries in flight, and a provider that throws is a failure', async () => {
    const time = fakeTime();
    const p = scripted({});
    const sender = new PushSender({ attemptTimeoutMs: 5000, concurrency: 3, perEndpoint: 3, setTimer: time.setTimer, breakers: new CircuitBreakers({ now: time.now }) });
    const all = Array.from({ length: 20 }, (_, i) => collect(sender.send(p.provider, wake(`u${i}`))));
    await time.advance(0);
    expect(all.every((d) => d.value?.kind === 'sent')).toBe(true);
    expect(p.maxInFlight).toBe(3);
    const throwing: PushProvider = { platform: 'fcm', send: async () => { throw new Error('boom'); } };
    const t = collect(sender.send(throwing, wake('x')));
    await time.advance(0);
    expect(t.value).toEqual({ kind: 'failed', reason: 'boom', attempts: 1 });
  });

  it('drain: what waits for a retry settles at once with its last answer, and nothing is retried after', async () => {
    const time = fakeTime();
    const retry: SendResult = { kind: 'retry', reason: '503' };
    const p = scripted({ 'https://hooks.example/a': [retry, { kind: 'sent' }], 'https://hooks.example/b': [retry, { kind: 'sent' }] });
    const sender = new PushSender({ attemptTimeoutMs: 5000, setTimer: time.setTimer, breakers: new CircuitBreakers({ now: time.now }) });
    const a = collect(sender.send(p.provider, wake('a')));
    await time.advance(0);
    sender.drain();
    await time.advance(0);
    expect(a.value).toEqual({ kind: 'retry', reason: '503 (not retried: stopping)', attempts: 1 });
    const b = collect(sender.send(p.provider, wake('b')));
    await time.advance(60_000);
    expect(b.value).toEqual({ kind: 'retry', reason: '503', attempts: 1 });
    expect(p.calls).toEqual(['https://hooks.example/a', 'https://hooks.example/b']);
  });
});
