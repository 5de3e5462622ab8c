import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { ProjectionWatch, type Names } from '@chat/messaging';
import { CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOGGER, metrics, NAMES } from '@chat/platform';
import { WebhookRepository } from '@chat/storage';
import { PartitionHooks } from './partition.hooks';
import { orderedStart, WEBHOOK_CONSUMER } from './webhook.consumers';
import { WebhookClient } from './webhook.client';
import { StatusBoard } from './webhook.status';

/** Events read from the consumer at a time; lanes then take them one by one. */
const BATCH_SIZE = 100;

/**
 * The integrator webhooks (CHAT_WEBHOOK_URL): every conversation event POSTed to the
 * receiver, signed, in seq order per conversation, until it answers 2xx. One
 * PartitionHooks per partition on a durable consumer of its own, so nothing else (the
 * projection, live delivery, push) waits for the receiver. Without CHAT_WEBHOOK_URL this
 * does nothing at all. One process per deployment runs it (the consumers are read by one
 * reader each: order).
 */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly feeds: PartitionHooks[] = [];
  private client?: WebhookClient;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NAMES) private readonly names: Names,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly watch: ProjectionWatch,
    private readonly events: WebhookRepository,
    private readonly status: StatusBoard,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const url = this.config.CHAT_WEBHOOK_URL;
    if (url === undefined) return;
    this.client = new WebhookClient({
      url, secret: this.config.CHAT_WEBHOOK_SECRET!, timeoutMs: this.config.CHAT_WEBHOOK_TIMEOUT, allowLoopback: this.config.CHAT_WEBHOOK_ALLOW_LOOPBACK,
    });
    const client = this.client;
    await this.watch.start();
    const partitions = this.names.allPartitions();
    this.status.start(partitions);
    for (const partition of partitions) {
      const feed = new PartitionHooks({
        partition, batchSize: BATCH_SIZE, concurrency: this.config.CHAT_WEBHOOK_CONCURRENCY, ackWaitMs: WEBHOOK_CONSUMER.ackWaitMs, log: this.log,
        prepare: async (first) => {
          const how = await orderedStart(this.jsm, this.names, partition, first);
          if (how !== 'kept') this.log.info({ partition, consumer: this.names.consumer('webhooks', partition) }, `webhook consumer ${how}`);
        },
        open: () => this.js.consumers.get(this.names.stream(partition), this.names.consumer('webhooks', partition)),
        conversationOf: (subject) => this.names.conversationOf(subject),
        projected: (p, seq, timeoutMs) => this.watch.waitFor(p, seq, timeoutMs),
        resolve: (p, entries) => this.events.events(p, entries),
        call: (hook) => client.post(hook),
        status: this.status,
        count: (result) => metrics.webhookCalls.inc({ result }),
      });
      await feed.start();
      this.feeds.push(feed);
    }
    this.log.info({ target: new URL(url).origin, partitions: partitions.length }, 'webhooks on');
  }

  /** Before the connections close: calls in flight end (and are acked when delivered); the rest comes again at the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    // The feeds first (they stop taking batches at once), then the watch: batches waiting
    // for their projection give up now rather than at the wait's timeout.
    const stopped = Promise.all(this.feeds.map((f) => f.stop()));
    this.watch.stop();
    await stopped;
    await this.status.stop();
    this.client.close();
  }
}
