import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface RetryOptions {
  /** Total tries, the first included (default 4). */
  attempts?: number;
  /** First backoff; doubles per try (default 200 ms). */
  baseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export const MAX_BACKOFF_MS = 10_000;

/** The pause before try n + 2 (n from 0) after a `retry`: Retry-After when given, else base * 2^n, capped at 10 s. */
export function backoffMs(result: Extract<SendResult, { kind: 'retry' }>, n: number, baseMs: number): number {
  return Math.min(Math.max(0, result.afterMs ?? baseMs * 2 ** n), MAX_BACKOFF_MS);
}

/**
 * Inline retries for one caller that may wait (tools, tests); the notifier uses PushSender,
 * which retries off its caller's path, with per-endpoint bounds and circuit breakers.
 * Sends, and sends again while the provider answers `retry`: after `afterMs` (Retry-After) when given,
 * else base * 2^n, both capped at 10 s. Returns the last result with the number of tries made.
 * A provider that throws is reported as `failed` (providers are meant to return, not throw).
 */
export async function sendWithRetry(provider: PushProvider, wake: WakeUp, opts: RetryOptions = {}): Promise<SendResult & { attempts: number }> {
  const attempts = Math.max(1, Math.floor(opts.attempts ?? 4));
  const baseMs = opts.baseMs ?? 200;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 0; ; n++) {
    let result: SendResult;
    try {
      result = await provider.send(wake);
    } catch (e) {
      result = { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
    if (result.kind !== 'retry' || n + 1 >= attempts) return { ...result, attempts: n + 1 };
    await sleep(backoffMs(result, n, baseMs));
  }
}
