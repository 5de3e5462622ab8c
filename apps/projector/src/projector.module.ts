import { Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Redis } from 'ioredis';
import { ConnectionRegistry } from '@chat/connections';
import type { Names } from '@chat/messaging';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { CONFIG, LOGGER, NAMES, NATS, REDIS, TIERED } from '@chat/platform';
import { ProjectionRepository, type TieredMessages } from '@chat/storage';
import { DeliveryRouter } from './delivery.router';
import { InboxPruner } from './inbox.pruner';
import { TimelineApplier } from './timeline.applier';
import { JetStreamTransport } from './jetstream.transport';
import { TimelineProjector } from './timeline.projector';

/** The projector: a JetStream microservice that folds the log into the read models. */
@Module({
  controllers: [TimelineProjector],
  providers: [
    JetStreamTransport,
    {
      provide: DeliveryRouter,
      inject: [NATS, NAMES, REDIS, LOGGER],
      useFactory: (nc: NatsConnection, names: Names, redis: Redis, log: Logger) => new DeliveryRouter(nc, names, new ConnectionRegistry(redis, names), log),
    },
    {
      provide: TimelineApplier,
      inject: [ProjectionRepository, CONFIG, TIERED],
      useFactory: (repo: ProjectionRepository, config: Config, tiered: TieredMessages) => new TimelineApplier(repo, config.CHAT_PUSH_FANOUT_MAX, tiered),
    },
    {
      provide: InboxPruner,
      inject: [ProjectionRepository, CONFIG, LOGGER],
      useFactory: (repo: ProjectionRepository, config: Config, log: Logger) => new InboxPruner(repo, config.CHAT_SYNC_RETENTION, log),
    },
  ],
  exports: [JetStreamTransport],
})
export class ProjectorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(InboxPruner) private readonly pruner: InboxPruner) {}

  onApplicationBootstrap(): void {
    this.pruner.start();
  }

  onApplicationShutdown(): void {
    this.pruner.stop();
  }
}
