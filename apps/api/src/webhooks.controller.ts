import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import { z } from 'zod';
import type { Config } from '@chat/config';
import type { HttpAnswer } from '@chat/contracts';
import type { RedisClient } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { AdminGuard, CONFIG, JETSTREAM_MANAGER, NAMES, REDIS } from '@chat/platform';
import { positionOf, webhookConsumer } from '../../webhooks/src/webhook.consumers';
import { readWebhookStatus, type PartitionReport } from '../../webhooks/src/webhook.status';
import { decodePage, encodePage, pageQuery, parse } from './admin.routes';

/**
 * `GET /v1/admin/webhooks`: per partition, how far the webhooks are (the consumer's
 * position: the last seq before the first event not yet delivered), the lag behind the log,
 * and what the sender last reported (last error and when, last delivery, events retrying).
 */
@Controller('v1/admin/webhooks')
@UseGuards(AdminGuard)
export class WebhooksController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(NAMES) private readonly names: Names,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  @Get()
  async list(@Query() query: unknown): Promise<HttpAnswer<'webhooks'>> {
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const after = decodePage(z.number().int().min(0).max(1023), cursor) ?? -1;
    const all = this.names.allPartitions().filter((p) => p > after);
    const page = all.slice(0, limit);
    // The reports are a view: without Redis the route still answers with what JetStream says.
    const reports = await readWebhookStatus(this.redis, this.names).catch(() => new Map<number, PartitionReport>());
    const partitions = await Promise.all(
      page.map(async (partition) => {
        const stream = this.names.stream(partition);
        const [streamInfo, consumer] = await Promise.all([this.jsm.streams.info(stream), webhookConsumer(this.jsm, this.names, partition)]);
        const lastSeq = streamInfo.state.last_seq;
        const report = reports.get(partition);
        // No consumer: webhooks were never on in this deployment (or `webhooks:replay` is moving it).
        const position = consumer ? positionOf(consumer) : undefined;
        return {
          partition, stream, lastSeq,
          ...(consumer && { consumer: consumer.name, position, lag: Math.max(0, lastSeq - position!) }),
          retrying: report?.retrying ?? 0,
          ...(report?.lastDeliveredAt !== undefined && { lastDeliveredAt: report.lastDeliveredAt }),
          ...(report?.lastError !== undefined && { lastError: report.lastError }),
          ...(report && { reportedAt: report.reportedAt }),
        };
      }),
    );
    const url = this.config.CHAT_WEBHOOK_URL;
    return {
      enabled: url !== undefined,
      // Without the query string, which may carry a key.
      ...(url !== undefined && { url: `${new URL(url).origin}${new URL(url).pathname}` }),
      partitions,
      ...(all.length > limit && { next: encodePage(page[page.length - 1]!) }),
    };
  }
}
