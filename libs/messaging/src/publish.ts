import type { ConversationEvent } from '@chat/domain';
import type { LogPublisher } from './jetstream.publisher';
import { HEADERS, type Names } from './names';
import { activeTraceparent, isTracing, TRACEPARENT } from './trace.context';

export interface Appended {
  /** Stream sequence: the event's `seq` in its conversation. */
  seq: number;
  /** JetStream had this msg id already within its duplicate window; `seq` is the original. */
  duplicate: boolean;
}

/**
 * The field of a log entry that names the connection that sent the command (live delivery
 * skips it: it has the ack). A payload field, not a header: headers cost an encoding
 * per message on both ends. Never a field of an event.
 */
const ORIGIN_FIELD = '_origin';

/** The bytes of a log entry: the event's JSON, with the sending connection beside it. */
export function encodeLogged(event: ConversationEvent, origin?: string): string {
  const json = JSON.stringify(event);
  return origin === undefined ? json : `${json.slice(0, -1)},"${ORIGIN_FIELD}":${JSON.stringify(origin)}}`;
}

/** A log entry's event (unchecked: `upcast` checks it) and the connection that sent it. */
export function readLoggedPayload(m: { json<T>(): T; headers?: { get(key: string): string } }): { raw: unknown; origin?: string; trace?: string } {
  let raw: unknown;
  try {
    raw = m.json();
  } catch {
    return { raw: undefined };
  }
  let origin: string | undefined;
  if (raw !== null && typeof raw === 'object' && ORIGIN_FIELD in raw) {
    const value = (raw as Record<string, unknown>)[ORIGIN_FIELD];
    delete (raw as Record<string, unknown>)[ORIGIN_FIELD];
    if (typeof value === 'string') origin = value;
  }
  // Entries written before the origin moved into the payload carry it as a header.
  origin ??= m.headers?.get(HEADERS.origin) || undefined;
  const trace = isTracing() ? m.headers?.get(TRACEPARENT) || undefined : undefined;
  return { raw, ...(origin !== undefined && { origin }), ...(trace !== undefined && { trace }) };
}

/**
 * Publishes wait for the end of the event loop's turn and go together: nats.js writes its
 * buffer once per microtask checkpoint, and each client's command arrives in a callback of
 * its own, so without this every send would cost a socket write to NATS of its own.
 */
let thisTurn: Array<() => void> | undefined;
function atEndOfTurn<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (!thisTurn) {
      const turn: Array<() => void> = (thisTurn = []);
      setImmediate(() => {
        thisTurn = undefined;
        for (const run of turn) run();
      });
    }
    thisTurn.push(() => void work().then(resolve, reject));
  });
}

/** Appends one event to its conversation's subject and waits for the stream's ack. */
export async function appendEvent(
  log: LogPublisher,
  names: Names,
  partition: number,
  event: ConversationEvent,
  opts: { msgId?: string; origin?: string; timeoutMs?: number } = {},
): Promise<Appended> {
  const subject = names.conversationSubject(partition, event.conversationId);
  const data = encodeLogged(event, opts.origin);
  // Read here: the publish itself runs at the end of the turn, outside the caller's span.
  const trace = isTracing() ? activeTraceparent() : undefined;
  const ack = await atEndOfTurn(() =>
    log.publish(subject, data, { timeout: opts.timeoutMs ?? 5_000, ...(opts.msgId !== undefined && { msgID: opts.msgId }), ...(trace !== undefined && { trace }) }),
  );
  return { seq: ack.seq, duplicate: ack.duplicate };
}
