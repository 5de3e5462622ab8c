import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { RouteTable } from '@chat/connections';
import type { Names } from '@chat/messaging';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { CONFIG, LOGGER, NAMES, NATS, TIERED } from '@chat/platform';
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
      inject: [NATS, NAMES, RouteTable, LOGGER],
      useFactory: (nc: NatsConnection, names: Names, routes: RouteTable, log: Logger) => new DeliveryRouter(nc, names, routes, log),
    },
    {
      provide: TimelineApplier,
      inject: [ProjectionRepository, CONFIG, TIERED],
      useFactory: (repo: ProjectionRepository, config: Config, tiered: TieredMessages) => new TimelineApplier(repo, config.CHAT_PUSH_FANOUT_MAX, tiered, config.CHAT_PROJECTOR_BATCH),
    },
    {
      provide: InboxPruner,
      inject: [ProjectionRepository, CONFIG, LOGGER],
      useFactory: (repo: ProjectionRepository, config: Config, log: Logger) => new InboxPruner(repo, config.CHAT_SYNC_RETENTION, log),
    },
  ],
  exports: [JetStreamTransport],
})
export class ProjectorModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(InboxPruner) private readonly pruner: InboxPruner,
    private readonly router: DeliveryRouter,
  ) {}

  onApplicationBootstrap(): void {
    this.pruner.start();
  }

  /** What was committed goes out before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.router.idle();
  }

  onApplicationShutdown(): void {
    this.pruner.stop();
  }
}
