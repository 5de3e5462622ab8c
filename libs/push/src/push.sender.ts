import { CircuitBreakers } from './circuit.breaker';
import { backoffMs } from './retry';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface SenderOptions {
  /** Tries in flight at once, across endpoints. */
  concurrency: number;
  /** Tries in flight at once to one endpoint: a hanging endpoint holds at most this many slots. */
  perEndpoint: number;
  /** Tries per wake-up, the first included. */
  attempts: number;
  /** Pause before the first retry; doubles per retry (Retry-After instead when the provider sent one; at most 10 s). */
  baseMs: number;
  /** A try that has not settled by then counts as a timeout, whatever the provider does meanwhile. */
  attemptTimeoutMs: number;
  breakers: CircuitBreakers;
  /** Timers (tests pass fakes). */
  setTimer: (fn: () => void, ms: number) => { cancel(): void };
}

export const SENDER_DEFAULTS = { concurrency: 64, perEndpoint: 32, attempts: 4, baseMs: 500 };

/** How a wake-up to one device ended, and after how many tries. `circuit_open`: not tried (again), its endpoint's circuit is open. */
export type Delivery = (SendResult | { kind: 'circuit_open'; reason: string }) & { attempts: number };

interface Item {
  provider: PushProvider;
  wake: WakeUp;
  endpoint: string;
  attempts: number;
  last?: Extract<SendResult, { kind: 'retry' }>;
  resolve: (d: Delivery) => void;
  timer?: { cancel(): void };
}

const realTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

/**
 * Sends wake-ups to devices, off the caller's path: at most `concurrency` tries in flight,
 * `perEndpoint` of them to one endpoint (taken in turns across endpoints), each bounded by
 * `attemptTimeoutMs`; a `retry` answer goes to a retry queue and is tried again after its
 * backoff, up to `attempts` tries; an endpoint whose circuit is open (CircuitBreakers) is not
 * tried at all. `send` resolves once the wake-up has its outcome; it never rejects.
 */
export class PushSender {
  private readonly o: SenderOptions;
  private readonly queues = new Map<string, Item[]>();
  private readonly busy = new Map<string, number>();
  private readonly retrying = new Set<Item>();
  private inFlight = 0;
  private draining = false;

  constructor(opts: Partial<SenderOptions> & Pick<SenderOptions, 'attemptTimeoutMs'>) {
    this.o = { ...SENDER_DEFAULTS, breakers: new CircuitBreakers(), setTimer: realTimer, ...opts };
  }

  send(provider: PushProvider, wake: WakeUp): Promise<Delivery> {
    return new Promise((resolve) => {
      let endpoint: string;
      try {
        endpoint = provider.endpointOf?.(wake) ?? provider.platform;
      } catch {
        endpoint = provider.platform;
      }
      this.enqueue({ provider, wake, endpoint, attempts: 0, resolve });
    });
  }

  /** From now on nothing is retried: wake-ups waiting for a retry settle at once with their last answer. */
  drain(): void {
    this.draining = true;
    for (const item of this.retrying) {
      item.timer?.cancel();
      this.settle(item, { ...item.last!, reason: `${item.last!.reason} (not retried: stopping)` });
    }
    this.retrying.clear();
  }

  /** What is at work (tests, logs). */
  get load(): { inFlight: number; queued: number; retrying: number } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { inFlight: this.inFlight, queued, retrying: this.retrying.size };
  }

  private enqueue(item: Item): void {
    const q = this.queues.get(item.endpoint);
    if (q) q.push(item);
    else this.queues.set(item.endpoint, [item]);
    this.pump();
  }

  /** Starts what may start: one item per endpoint per round, so that no endpoint's backlog starves another's. */
  private pump(): void {
    let started = true;
    while (started && this.inFlight < this.o.concurrency) {
      started = false;
      for (const [endpoint, q] of this.queues) {
        if (this.inFlight >= this.o.concurrency) break;
        if ((this.busy.get(endpoint) ?? 0) >= this.o.perEndpoint) continue;
        const item = q.shift()!;
        if (q.length === 0) this.queues.delete(endpoint);
        this.start(item);
        started = true;
      }
    }
  }

  private start(item: Item): void {
    const admission = this.o.breakers.admit(item.endpoint);
    if (!admission.ok) {
      this.settle(item, { kind: 'circuit_open', reason: item.last ? `${admission.reason} (last try: ${item.last.reason})` : admission.reason });
      return;
    }
    this.inFlight++;
    this.busy.set(item.endpoint, (this.busy.get(item.endpoint) ?? 0) + 1);
    item.attempts++;
    void this.attempt(item).then((result) => {
      this.inFlight--;
      const busy = (this.busy.get(item.endpoint) ?? 1) - 1;
      if (busy > 0) this.busy.set(item.endpoint, busy);
      else this.busy.delete(item.endpoint);
      // 4xx and `gone` are about the token: the endpoint answered.
      this.o.breakers.record(item.endpoint, result.kind !== 'retry');
      if (result.kind === 'retry' && item.attempts < this.o.attempts && !this.draining) this.retryLater(item, result);
      else this.settle(item, result);
      this.pump();
    });
  }

  private async attempt(item: Item): Promise<SendResult> {
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<SendResult>((resolve) => {
      timer = this.o.setTimer(() => resolve({ kind: 'retry', reason: `network: timeout (no answer in ${this.o.attemptTimeoutMs} ms)` }), this.o.attemptTimeoutMs);
    });
    try {
      return await Promise.race([item.provider.send(item.wake), deadline]);
    } catch (e) {
      // providers are meant to return, not throw
      return { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
    } finally {
      timer?.cancel();
    }
  }

  private retryLater(item: Item, result: Extract<SendResult, { kind: 'retry' }>): void {
    item.last = result;
    this.retrying.add(item);
    item.timer = this.o.setTimer(() => {
      this.retrying.delete(item);
      item.timer = undefined;
      this.enqueue(item);
    }, backoffMs(result, item.attempts - 1, this.o.baseMs));
  }

  private settle(item: Item, result: SendResult | { kind: 'circuit_open'; reason: string }): void {
    item.resolve({ ...result, attempts: item.attempts });
  }
}
