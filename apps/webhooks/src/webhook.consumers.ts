import { AckPolicy, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { isNotFound, resetConsumer, type ConsumerSettings, type Names } from '@chat/messaging';

/**
 * The webhooks' durable consumers, one per partition (`<ns>_webhooks_p<k>`): their position
 * is the webhooks' position, kept by JetStream across restarts. A consumer is always
 * created at a stream sequence (never "new" or "by time"), so that its position can be
 * read back exactly: the sequence before its start until something is acked.
 */
export const WEBHOOK_CONSUMER: ConsumerSettings = {
  ackPolicy: AckPolicy.Explicit,
  // Events at work say so every ACK_WAIT / 2 (working()); this is how long a crashed sender's hold lasts.
  ackWaitMs: 30_000,
  // Events delivered and not yet acked, per partition: what a slow receiver lets pile up in memory.
  maxAckPending: 512,
};

/** The last stream sequence before the first event not yet delivered and acked. */
export function positionOf(info: Pick<ConsumerInfo, 'ack_floor' | 'config'>): number {
  // JetStream's ack floor stays 0 until the first event at the start is acked.
  return Math.max(info.ack_floor.stream_seq, (info.config.opt_start_seq ?? 1) - 1);
}

/** The consumer's info, or undefined when it does not exist. */
export async function webhookConsumer(jsm: JetStreamManager, names: Names, p: number): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(names.stream(p), names.consumer('webhooks', p));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Points partition `p`'s webhooks at `startSeq`: everything from there on is delivered (again). */
export function moveWebhookConsumer(jsm: JetStreamManager, names: Names, p: number, startSeq: number): Promise<string> {
  return resetConsumer(jsm, names.stream(p), names.consumer('webhooks', p), startSeq, WEBHOOK_CONSUMER);
}

/**
 * Makes the consumer of partition `p` deliver in log order from its position, before the
 * sender reads from it. A missing consumer is created after the end of the stream: webhooks
 * switched on deliver what comes next (`webhooks:replay` delivers history). A consumer with
 * deliveries pending (left by a sender that stopped or crashed with events in flight) would
 * redeliver them only after their ack wait, behind newer events: it is moved back to its
 * position, so they come first, in order (events acked past the position come again: at
 * least once, and the receiver drops them by id).
 */
export async function orderedStart(jsm: JetStreamManager, names: Names, p: number, createIfMissing: boolean): Promise<'created' | 'moved' | 'kept'> {
  const info = await webhookConsumer(jsm, names, p);
  if (!info) {
    // Waiting for the one `webhooks:replay` is creating, after a reset: not one of our own.
    if (!createIfMissing) throw new Error(`consumer ${names.consumer('webhooks', p)} does not exist`);
    const { state } = await jsm.streams.info(names.stream(p));
    await moveWebhookConsumer(jsm, names, p, state.last_seq + 1);
    return 'created';
  }
  if (info.num_ack_pending === 0) return 'kept';
  await moveWebhookConsumer(jsm, names, p, positionOf(info) + 1);
  return 'moved';
}
