import { CircuitBreakers } from './circuit.breaker';

describe('CircuitBreakers', () => {
  const make = () => {
    let now = 1_000_000;
    const b = new CircuitBreakers({ failuresToOpen: 3, coolDownMs: 30_000, maxEndpoints: 100, now: () => now });
    return { b, advance: (ms: number) => void (now += ms) };
  };
  const fail = (b: CircuitBreakers, endpoint: string, n: number) => {
    for (let i = 0; i < n; i++) {
      expect(b.admit(endpoint).ok).toBe(true);
      b.record(endpoint, false);
    }
  };

  it('opens after N failures in a row and refuses at once until the cool-down is over', () => {
    const { b, advance } = make();
    fail(b, 'hooks:443', 2);
    expect(b.state('hooks:443')).toBe('closed');
    fail(b, 'hooks:443', 1);
    expect(b.state('hooks:443')).toBe('open');
    expect(b.admit('hooks:443')).toEqual({ ok: false, reason: 'hooks:443 failed 3 times in a row; next trial in 30 s', retryInMs: 30_000 });
    advance(29_999);
    expect(b.admit('hooks:443').ok).toBe(false);
    // other endpoints are not affected
    expect(b.admit('other:443')).toEqual({ ok: true, trial: false });
  });

  it('a success in between starts the count again', () => {
    const { b } = make();
    fail(b, 'e', 2);
    b.record('e', true);
    fail(b, 'e', 2);
    expect(b.state('e')).toBe('closed');
  });

  it('half-open after the cool-down: one trial; its success closes the circuit', () => {
    const { b, advance } = make();
    fail(b, 'e', 3);
    advance(30_000);
    expect(b.admit('e')).toEqual({ ok: true, trial: true });
    expect(b.state('e')).toBe('half-open');
    expect(b.admit('e')).toMatchObject({ ok: false, reason: 'e: a trial after the cool-down is under way' });
    b.record('e', true);
    expect(b.state('e')).toBe('closed');
    expect(b.admit('e')).toEqual({ ok: true, trial: false });
  });

  it('a failed trial opens the circuit for another cool-down', () => {
    const { b, advance } = make();
    fail(b, 'e', 3);
    advance(30_000);
    expect(b.admit('e')).toEqual({ ok: true, trial: true });
    b.record('e', false);
    expect(b.state('e')).toBe('open');
    expect(b.admit('e')).toMatchObject({ ok: false, retryInMs: 30_000, reason: expect.stringMatching(/failed 4 times in a row/) });
    advance(30_000);
    expect(b.admit('e')).toEqual({ ok: true, trial: true });
  });

  it('late failures of tries admitted before it opened do not extend the cool-down', () => {
    const { b, advance } = make();
    for (let i = 0; i < 5; i++) expect(b.admit('e').ok).toBe(true); // five at once, all hanging
    for (let i = 0; i < 3; i++) b.record('e', false);
    advance(10_000);
    b.record('e', false);
    b.record('e', false);
    advance(20_000);
    expect(b.admit('e')).toEqual({ ok: true, trial: true });
  });

  it('remembers failing endpoints only, and at most maxEndpoints of them', () => {
    const b = new CircuitBreakers({ failuresToOpen: 1, coolDownMs: 1000, maxEndpoints: 2, now: () => 0 });
    b.record('a', false);
    b.record('b', false);
    b.record('c', false);
    expect([b.state('a'), b.state('b'), b.state('c')]).toEqual(['closed', 'open', 'open']);
    b.record('b', true);
    expect(b.state('b')).toBe('closed');
  });
});
