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

/**
 * Clients that keep sending, one message at a time each, as a real client with an outbox
 * does: a send without an ok ack (an error code, or no answer within `timeoutMs`) is
 * retried with the same clientMsgId until it is acked, and every ack goes into the ledger
 * (which throws if a clientMsgId is acked twice with different seqs). `pauseMs` spaces a
 * client's sends after each ack.
 */
export function keepSending(ledger: SendLedger, routes: SenderRoute[], opts: { prefix: string; timeoutMs?: number; pauseMs?: number }): Senders {
  let stopping = false;
  let acked = 0;
  let retries = 0;
  const failures: Record<string, number> = {};
  const loops = routes.map(async ({ client, conversationId }, r) => {
    for (let i = 0; !stopping; i++) {
      const clientMsgId = `${opts.prefix}-${r}-${i}`;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) retries++;
        const ack = await ledger.send(client, conversationId, clientMsgId, `${clientMsgId} body`, opts.timeoutMs ?? 6_000).catch((err: Error) => {
          if (/timed out|timeout/i.test(err.message)) return undefined;
          throw err;
        });
        if (ack?.ok) {
          acked++;
          // A person's pace, not a flood: keeps the ledger check of a long run small.
          if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
          break;
        }
        const code = ack ? ack.error.code : 'timeout';
        failures[code] = (failures[code] ?? 0) + 1;
        if (!client.socket.connected) throw new Error(`${client.userId} was disconnected while sending ${clientMsgId}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS[Math.min(attempt, RETRY_BACKOFF_MS.length - 1)]));
      }
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
