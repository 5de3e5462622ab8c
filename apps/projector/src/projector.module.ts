import { Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { ConnectionRegistry } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { NAMES, NATS, PG_POOL, REDIS } from '@chat/platform';
import { ProjectionRepository } from '@chat/storage';
import { DeliveryRouter } from './delivery.router';
import { JetStreamTransport } from './jetstream.transport';
import { TimelineProjector } from './timeline.projector';

/** The projector: a JetStream microservice that folds the log into the read models. */
@Module({
  controllers: [TimelineProjector],
  providers: [
    JetStreamTransport,
    { provide: ProjectionRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new ProjectionRepository(pool) },
    {
      provide: DeliveryRouter,
      inject: [NATS, NAMES, REDIS],
      useFactory: (nc: NatsConnection, names: Names, redis: Redis) => new DeliveryRouter(nc, names, new ConnectionRegistry(redis, names)),
    },
  ],
  exports: [JetStreamTransport],
})
export class ProjectorModule {}
