import { Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { RedisClient } from '@chat/connections';
import { ProjectionWatch, type Names } from '@chat/messaging';
import { LOGGER, NAMES, NATS, PG_POOL, REDIS, TIERED } from '@chat/platform';
import { ReadModelRepository, WebhookRepository, type TieredMessages } from '@chat/storage';
import { StatusBoard } from './webhook.status';
import { WebhooksService } from './webhooks.service';

/** The integrator webhooks: every conversation event to CHAT_WEBHOOK_URL (off without it). */
@Module({
  providers: [
    WebhooksService,
    {
      provide: ProjectionWatch,
      inject: [NATS, NAMES, ReadModelRepository],
      useFactory: (nc: NatsConnection, names: Names, rm: ReadModelRepository) => new ProjectionWatch(nc, names, async (p) => (await rm.checkpoints()).get(p) ?? 0),
    },
    { provide: WebhookRepository, inject: [PG_POOL, TIERED], useFactory: (pool: Pool, tiered: TieredMessages) => new WebhookRepository(pool, tiered) },
    { provide: StatusBoard, inject: [REDIS, NAMES, LOGGER], useFactory: (redis: RedisClient, names: Names, log: Logger) => new StatusBoard(redis, names, log) },
  ],
})
export class WebhooksModule {}
