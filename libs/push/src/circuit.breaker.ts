export interface BreakerOptions {
  /** Consecutive failed tries that open an endpoint's circuit. */
  failuresToOpen: number;
  /** How long an open circuit refuses before it lets one trial through (half-open). */
  coolDownMs: number;
  /** Endpoints remembered at most (only failing ones are); the longest-known is forgotten first. */
  maxEndpoints: number;
  now: () => number;
}

export const BREAKER_DEFAULTS: Omit<BreakerOptions, 'now'> = { failuresToOpen: 5, coolDownMs: 30_000, maxEndpoints: 10_000 };

type State =
  | { kind: 'closed'; failures: number }
  | { kind: 'open'; until: number; failures: number }
  | { kind: 'half-open'; failures: number };

export type Admission = { ok: true; trial: boolean } | { ok: false; reason: string; retryInMs: number };

/**
 * One circuit per endpoint (a push service, a webhook's host and port). Closed: every try
 * goes. `failuresToOpen` failures in a row open it: tries are refused at once, without a
 * connection, for `coolDownMs`. Then it is half-open: one trial goes; its success closes the
 * circuit, its failure opens it for another cool-down. A failure is a try that says nothing
 * about the token: a timeout, a network error, 5xx, 429. Healthy endpoints take no memory.
 */
export class CircuitBreakers {
  private readonly states = new Map<string, State>();
  private readonly opts: BreakerOptions;

  constructor(opts: Partial<BreakerOptions> = {}) {
    this.opts = { ...BREAKER_DEFAULTS, now: Date.now, ...opts };
  }

  /** Whether a try to `endpoint` may go now; `trial` when it is the half-open circuit's one trial. */
  admit(endpoint: string): Admission {
    const s = this.states.get(endpoint);
    if (!s || s.kind === 'closed') return { ok: true, trial: false };
    if (s.kind === 'half-open') return { ok: false, reason: `${endpoint}: a trial after the cool-down is under way`, retryInMs: this.opts.coolDownMs };
    const left = s.until - this.opts.now();
    if (left > 0) return { ok: false, reason: `${endpoint} failed ${s.failures} times in a row; next trial in ${Math.ceil(left / 1000)} s`, retryInMs: left };
    this.states.set(endpoint, { kind: 'half-open', failures: s.failures });
    return { ok: true, trial: true };
  }

  /** The outcome of an admitted try. */
  record(endpoint: string, healthy: boolean): void {
    const s = this.states.get(endpoint);
    if (healthy) {
      this.states.delete(endpoint);
      return;
    }
    const failures = (s?.failures ?? 0) + 1;
    // A late failure of a try admitted before the circuit opened leaves the open circuit as it is.
    if (s?.kind === 'open') {
      s.failures = failures;
      return;
    }
    const opens = s?.kind === 'half-open' || failures >= this.opts.failuresToOpen;
    this.remember(endpoint, opens ? { kind: 'open', until: this.opts.now() + this.opts.coolDownMs, failures } : { kind: 'closed', failures });
  }

  state(endpoint: string): 'closed' | 'open' | 'half-open' {
    return this.states.get(endpoint)?.kind ?? 'closed';
  }

  private remember(endpoint: string, s: State): void {
    this.states.delete(endpoint);
    this.states.set(endpoint, s);
    if (this.states.size > this.opts.maxEndpoints) this.states.delete(this.states.keys().next().value!);
  }
}
