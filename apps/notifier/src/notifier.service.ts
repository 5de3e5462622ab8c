import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { isNotFound, ProjectionWatch, type Names } from '@chat/messaging';
import { JETSTREAM, JETSTREAM_MANAGER, LOGGER, NAMES } from '@chat/platform';
import { PushSender, type Platform, type PushProvider } from '@chat/push';
import { BatchNotifier } from './batch.notifier';
import { OnlineRecorder } from './online.recorder';
import { PartitionFeed } from './partition.feed';

/**
 * A batch left unacked by a crashed notifier comes back after this; a live one that is
 * still working (provider retries, the projection wait) says so every ACK_WAIT_MS / 2.
 */
const ACK_WAIT_MS = 10_000;
/** Largest batch; the consumer delivers up to twice as many ahead. */
const BATCH_SIZE = 200;

export const PUSH_PROVIDERS = Symbol('PUSH_PROVIDERS');

/**
 * Wakes offline users' devices for new messages: one durable consumer per partition reads
 * every event of the log, in batches (BatchNotifier decides a batch). Every other member
 * who is offline, has not read a message, has a registered device and was active within
 * CHAT_PUSH_ACTIVE_WITHIN gets at most one wake-up per CHAT_PUSH_COALESCE (conversation ids
 * and unread counts, never a body). Every decision but `online` is recorded before its
 * message is acked; `online` ones are written as ranges within ONLINE_FLUSH.intervalMs.
 * Wake-ups go out through the PushSender, off the partition's path.
 */
@Injectable()
export class NotifierService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly feeds: PartitionFeed[] = [];

  constructor(
    @Inject(NAMES) private readonly names: Names,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly watch: ProjectionWatch,
    private readonly online: OnlineRecorder,
    private readonly batches: BatchNotifier,
    private readonly sender: PushSender,
    @Inject(PUSH_PROVIDERS) private readonly providers: Map<Platform, PushProvider>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.watch.start();
    this.online.start();
    for (const partition of this.names.allPartitions()) {
      const stream = this.names.stream(partition);
      const durable = this.names.consumer('notifier', partition);
      try {
        await this.jsm.consumers.info(stream, durable);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // A new notifier starts with what comes next: no wake-ups for history.
        await this.jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1000, max_deliver: -1 });
      }
      const feed = new PartitionFeed({
        partition, batchSize: BATCH_SIZE, ackWaitMs: ACK_WAIT_MS, log: this.log,
        open: () => this.js.consumers.get(stream, durable),
        handle: (p, events) => this.batches.handle(p, events),
      });
      await feed.start();
      this.feeds.push(feed);
    }
  }

  /** Before the connections close: finish the batches and wake-ups at work, write the online ranges, ack. */
  async beforeApplicationShutdown(): Promise<void> {
    // Batches waiting for their projection hand their messages back now rather than at the timeout.
    this.watch.stop();
    const stopped = Promise.all(this.feeds.map((f) => f.stop()));
    // Tries in flight end within their timeout; retries are given up (recorded as such).
    this.sender.drain();
    await stopped;
    await this.online.close();
  }

  onApplicationShutdown(): void {
    // APNs keeps an HTTP/2 session open.
    for (const p of this.providers.values()) (p as Partial<{ close(): unknown }>).close?.();
  }
}
