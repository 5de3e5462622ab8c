import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import type { ConversationEvent } from '@chat/domain';
import { HEADERS, type Names } from './names';

export interface Appended {
  /** Stream sequence: the event's `seq` in its conversation. */
  seq: number;
  /** JetStream had this msg id already within its duplicate window; `seq` is the original. */
  duplicate: boolean;
}

/** Appends one event to its conversation's subject and waits for the stream's ack. */
export async function appendEvent(
  js: JetStreamClient,
  names: Names,
  partition: number,
  event: ConversationEvent,
  opts: { msgId?: string; origin?: string; timeoutMs?: number } = {},
): Promise<Appended> {
  const h = headers();
  if (opts.origin) h.set(HEADERS.origin, opts.origin);
  const ack = await js.publish(names.conversationSubject(partition, event.conversationId), JSON.stringify(event), {
    headers: h,
    timeout: opts.timeoutMs ?? 5_000,
    ...(opts.msgId !== undefined && { msgID: opts.msgId }),
  });
  return { seq: ack.seq, duplicate: ack.duplicate };
}
