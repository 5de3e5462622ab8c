import type { JsMsg } from '@nats-io/jetstream';

/** What becomes of one JetStream message. */
export type Settlement =
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number }
  | { kind: 'term'; reason: string };

/** Redelivery delays for a nak: short at first, then capped, never giving up. */
export function nakBackoff(attempt: number): number {
  return Math.min(250 * 2 ** Math.max(0, attempt - 1), 10_000);
}

/** The one place that acks, naks or terminates a JetStream message. */
export function settle(msg: JsMsg, s: Settlement): void {
  switch (s.kind) {
    case 'ack':
      msg.ack();
      return;
    case 'nak':
      msg.nak(s.delayMs);
      return;
    case 'term':
      msg.term(s.reason);
      return;
    default: {
      const unhandled: never = s;
      return unhandled;
    }
  }
}
