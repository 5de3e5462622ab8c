import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { ConnectionRegistry, RouteTable, type RedisClient } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { AttachmentRepository, BlockRepository, ProjectionRepository, PushRepository, ReadModelRepository, SearchQueries } from '@chat/storage';
import { NAMES, PG_POOL, REDIS } from './tokens';

/**
 * The repositories and the connection registry, provided once per process for every
 * module in it: services receive them rather than building their own.
 */
export const sharedProviders: Provider[] = [
  { provide: ReadModelRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new ReadModelRepository(pool) },
  { provide: PushRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new PushRepository(pool) },
  { provide: ProjectionRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new ProjectionRepository(pool) },
  { provide: SearchQueries, inject: [PG_POOL], useFactory: (pool: Pool) => new SearchQueries(pool) },
  { provide: BlockRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new BlockRepository(pool) },
  { provide: AttachmentRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new AttachmentRepository(pool) },
  { provide: ConnectionRegistry, inject: [REDIS, NAMES], useFactory: (redis: RedisClient, names: Names) => new ConnectionRegistry(redis, names) },
  { provide: RouteTable, inject: [ConnectionRegistry], useFactory: (registry: ConnectionRegistry) => new RouteTable(registry) },
];

export const sharedExports = [AttachmentRepository, ReadModelRepository, PushRepository, ProjectionRepository, SearchQueries, BlockRepository, ConnectionRegistry, RouteTable];
