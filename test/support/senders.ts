import type { TestClient } from './clients';
import type { SendLedger } from './ledger';

/** Client-side pause after a refused or unanswered send, as an SDK's outbox would back off. */
const RETRY_BACKOFF_MS = [20, 50, 100, 200, 400];

export interface SenderRoute {
  client: TestClient;
  conversationId: string;
}

/** What a set of sending clients saw while they ran. */
export interface SendersResult {
  acked: number;
  /** Failed attempts by error code (`timeout` when no ack came back). */
  failures: Record<string, number>;
  /** Attempts that were retries of a clientMsgId already sent once. */
  retries: number;
}

export interface Senders {
  /** Failures seen so far, while running. */
  readonly failures: Record<string, number>;
  /** Acked sends so far. */
  acks(): number;
  /** Throws what made a sending loop fail, if one did (call it from waitFor probes). */
  check(): void;
  /** Lets each client finish (ack) the message it is on, then stops; rethrows what went wrong. */
  stop(): Promise<SendersResult>;
}

/** What one attempt of a send came to: acked, refused with a code, or no answer in time. */
export type AttemptOutcome = { kind: 'ok' } | { kind: 'error'; code: string } | { kind: 'unknown' };

export interface StormOptions<R extends SenderRoute> {
  prefix: string;
  pauseMs?: number;
  /** Pauses before each retry, the last one repeated (an SDK outbox's backoff). */
  backoffMs?: number[];
  /** Sends one attempt of `clientMsgId` (attempt 0 first) and says what came of it. */
  attempt: (route: R, clientMsgId: string, attempt: number) => Promise<AttemptOutcome>;
  /** A code the case does not allow: the loop fails with this message. */
  refuse?: (code: string, clientMsgId: string) => string | undefined;
}

/**
 * Clients that keep sending, one message at a time each, as a real client with an outbox
 * does: a send without an ok ack (an error code, or no answer) is retried with the same
 * clientMsgId until it is acked. `pauseMs` spaces a client's sends after each ack.
 */
export function storm<R extends SenderRoute>(routes: R[], opts: StormOptions<R>): Senders {
  const backoff = opts.backoffMs ?? RETRY_BACKOFF_MS;
  let stopping = false;
  let acked = 0;
  let retries = 0;
  const failures: Record<string, number> = {};
  const loops = routes.map(async (route, r) => {
    for (let i = 0; !stopping; i++) {
      const clientMsgId = `${opts.prefix}-${r}-${i}`;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) retries++;
        const outcome = await opts.attempt(route, clientMsgId, attempt);
        if (outcome.kind === 'ok') break;
        const code = outcome.kind === 'error' ? outcome.code : 'timeout';
        failures[code] = (failures[code] ?? 0) + 1;
        const refused = outcome.kind === 'error' ? opts.refuse?.(code, clientMsgId) : undefined;
        if (refused) throw new Error(refused);
        if (!route.client.socket.connected) throw new Error(`${route.client.userId} was disconnected while sending ${clientMsgId}`);
        await new Promise((resolve) => setTimeout(resolve, backoff[Math.min(attempt, backoff.length - 1)]));
      }
      acked++;
      // A person's pace, not a flood: keeps the ledger check of a long run small.
      if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
    }
  });
  // A failing loop must not go unobserved until stop(): remember it.
  let failed: unknown;
  const done = Promise.all(loops);
  done.catch((err) => (failed = err));
  return {
    failures,
    acks: () => acked,
    check: () => {
      if (failed) throw failed;
    },
    stop: async () => {
      stopping = true;
      await done;
      return { acked, failures: { ...failures }, retries };
    },
  };
}

/** A storm whose every ack goes into the ledger (which throws if a clientMsgId is acked twice with different seqs). */
export function keepSending(ledger: SendLedger, routes: SenderRoute[], opts: { prefix: string; timeoutMs?: number; pauseMs?: number }): Senders {
  return storm(routes, {
    prefix: opts.prefix,
    ...(opts.pauseMs !== undefined && { pauseMs: opts.pauseMs }),
    attempt: async ({ client, conversationId }, clientMsgId) => {
      const ack = await ledger.send(client, conversationId, clientMsgId, `${clientMsgId} body`, opts.timeoutMs ?? 6_000).catch((err: Error) => {
        if (/timed out|timeout/i.test(err.message)) return undefined;
        throw err;
      });
      return !ack ? { kind: 'unknown' } : ack.ok ? { kind: 'ok' } : { kind: 'error', code: ack.error.code };
    },
  });
}
