import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Pool } from 'pg';
import { RouteTable } from '@chat/connections';
import { ProjectionWatch, type Names } from '@chat/messaging';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { CONFIG, LOGGER, NAMES, NATS, PG_POOL, TIERED } from '@chat/platform';
import { createPool, ProjectionRepository, ReadModelRepository, SEARCH, SearchProjectionRepository, type TieredMessages } from '@chat/storage';
import { SearchApplier } from './search.applier';
import { SearchProjector } from './search.projector';
import { DeliveryRouter } from './delivery.router';
import { InboxPruner } from './inbox.pruner';
import { TimelineApplier } from './timeline.applier';
import { JetStreamTransport } from './jetstream.transport';
import { TimelineProjector } from './timeline.projector';

const SEARCH_POOL = Symbol('SEARCH_POOL');

/** The projector: a JetStream microservice that folds the log into the read models. */
@Module({
  controllers: [TimelineProjector, SearchProjector],
  providers: [
    JetStreamTransport,
    {
      // Its own pool: the search index's statements resolve in its schema.
      provide: SEARCH_POOL,
      inject: [CONFIG, PG_POOL],
      // PG_POOL first: its factory made sure the schema exists with the current DDL.
      useFactory: (config: Config) => createPool(config.CHAT_DATABASE_URL, 4, SEARCH),
    },
    { provide: SearchProjectionRepository, inject: [SEARCH_POOL], useFactory: (pool: Pool) => new SearchProjectionRepository(pool) },
    {
      // The search projector waits on the timeline's commits for its verdicts.
      provide: ProjectionWatch,
      inject: [NATS, NAMES, ReadModelRepository],
      useFactory: async (nc: NatsConnection, names: Names, rm: ReadModelRepository) => {
        const watch = new ProjectionWatch(nc, names, async (p) => (await rm.checkpoints()).get(p) ?? 0);
        await watch.start();
        return watch;
      },
    },
    {
      provide: SearchApplier,
      inject: [SearchProjectionRepository, PG_POOL, ProjectionWatch],
      useFactory: (repo: SearchProjectionRepository, pool: Pool, watch: ProjectionWatch) => new SearchApplier(repo, pool, watch),
    },
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
    private readonly watch: ProjectionWatch,
    @Inject(SEARCH_POOL) private readonly searchPool: Pool,
  ) {}

  onApplicationBootstrap(): void {
    this.pruner.start();
  }

  /** What was committed goes out before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.router.idle();
  }

  async onApplicationShutdown(): Promise<void> {
    this.pruner.stop();
    this.watch.stop();
    await this.searchPool.end();
  }
}
