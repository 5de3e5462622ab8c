import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { RedisClient } from '@chat/connections';
import type { Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { AckCheck, connectNats, ensureStreams, JetStreamPublisher, Names } from '@chat/messaging';
import { AttachmentObjects, BlobStore, createPool, ensureDatabase, ensureProjectionSchema, migrate, SEARCH, TieredMessages, TIMELINE } from '@chat/storage';
import { createLogger } from './logger';
import { metrics } from './metrics';
import { createRedis } from './redis.client';
import { sharedExports, sharedProviders } from './shared.providers';
import { ATTACHMENT_OBJECTS, BLOBS, CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOG_PUBLISHER, LOGGER, NAMES, NATS, NODE_ID, PG_POOL, REDIS, TIERED } from './tokens';

/** The cold tier's store as configured (CHAT_S3_*). */
export function blobStoreOf(config: Config): BlobStore {
  return new BlobStore(blobSettingsOf(config));
}

function blobSettingsOf(config: Config) {
  return {
    endpoint: config.CHAT_S3_ENDPOINT, bucket: config.CHAT_S3_BUCKET, region: config.CHAT_S3_REGION,
    accessKeyId: config.CHAT_S3_ACCESS_KEY_ID, secretAccessKey: config.CHAT_S3_SECRET_ACCESS_KEY,
  };
}

/** A node id that is one NATS subject token and tells an operator where it runs. */
function makeNodeId(app: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24);
  return `${app}-${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Connections to NATS, Postgres and Redis, created once per process and shared by every
 * module in it. Creating them also prepares what they need: the database and its
 * migrations, the partition streams (read back to check the server kept their settings).
 */
@Global()
@Module({})
export class InfraModule implements OnApplicationShutdown {
  static forRoot(config: Config, app: string): DynamicModule {
    const logger = createLogger(config.CHAT_LOG_LEVEL, app);
    for (const warning of config.warnings) logger.warn(warning);
    return {
      module: InfraModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: NAMES, useValue: new Names(config.CHAT_NAMESPACE, config.CHAT_PARTITIONS) },
        { provide: NODE_ID, useValue: config.CHAT_NODE_ID ?? makeNodeId(app) },
        {
          provide: PG_POOL,
          useFactory: async () => {
            await ensureDatabase(config.CHAT_DATABASE_URL);
            const pool = createPool(config.CHAT_DATABASE_URL, 20, TIMELINE);
            const applied = await migrate(pool);
            if (applied.length) logger.info({ applied }, 'migrations applied');
            await ensureProjectionSchema(pool, TIMELINE);
            await ensureProjectionSchema(pool, SEARCH);
            return pool;
          },
        },
        {
          provide: NATS,
          inject: [NAMES, NODE_ID],
          useFactory: async (names: Names, nodeId: string) => {
            const nc = await connectNats(config.CHAT_NATS_URL, nodeId);
            await ensureStreams(await jetstreamManager(nc), names, {
              replicas: config.CHAT_STREAM_REPLICAS,
              duplicateWindowMs: config.CHAT_DUPLICATE_WINDOW,
            });
            return nc;
          },
        },
        {
          provide: BLOBS,
          useFactory: async () => {
            const blobs = blobStoreOf(config);
            await blobs.ensureBucket();
            return blobs;
          },
        },
        // The bucket is made by BLOBS; these only sign, check and delete objects in it.
        { provide: ATTACHMENT_OBJECTS, inject: [BLOBS], useFactory: () => new AttachmentObjects({ ...blobSettingsOf(config), publicEndpoint: config.CHAT_S3_PUBLIC_ENDPOINT }) },
        { provide: TIERED, inject: [PG_POOL, BLOBS], useFactory: (pool: Pool, blobs: BlobStore) => new TieredMessages(pool, blobs) },
        { provide: JETSTREAM, inject: [NATS], useFactory: (nc: NatsConnection) => jetstream(nc) },
        { provide: JETSTREAM_MANAGER, inject: [NATS], useFactory: (nc: NatsConnection) => jetstreamManager(nc) },
        {
          provide: LOG_PUBLISHER,
          inject: [NATS, JETSTREAM_MANAGER, NAMES, LOGGER],
          // Acks of a stream whose leader changed are read back: nats-server's wrong seqs (ack.check.ts).
          useFactory: (nc: NatsConnection, jsm: JetStreamManager, names: Names, log: Logger) =>
            new JetStreamPublisher(nc, new AckCheck(nc, jsm, names, log, (result) => metrics.publishAckChecks.inc({ result }))),
        },
        {
          provide: REDIS,
          useFactory: () => createRedis(config),
        },
        ...sharedProviders,
      ],
      exports: [CONFIG, LOGGER, NAMES, NODE_ID, PG_POOL, NATS, JETSTREAM, JETSTREAM_MANAGER, LOG_PUBLISHER, REDIS, BLOBS, ATTACHMENT_OBJECTS, TIERED, ...sharedExports],
    };
  }

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.redis.on('error', (err) => this.logger.warn({ err: err.message }, 'redis error'));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.nc.drain(), this.pool.end(), this.redis.quit()]);
  }
}
