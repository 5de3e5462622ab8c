import { ConflictException, Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import type { Names } from '@chat/messaging';
import type { BlobStore, Projection } from '@chat/storage';
import { BLOBS, CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOGGER, NAMES, PG_POOL } from '@chat/platform';
import { RebuildRunningError, ProjectionRebuild, type RebuildProgress } from '../../projector/src/projection.rebuild';

/** Starts rebuilds for the admin API and remembers the last one of each projection this process ran. */
@Injectable()
export class RebuildService {
  /** The last rebuild of each projection this process started. */
  private readonly last = new Map<Projection, ProjectionRebuild>();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(NAMES) private readonly names: Names,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(BLOBS) private readonly blobs: BlobStore,
  ) {}

  /** The last rebuild of `projection` this process started. */
  status(projection: Projection): RebuildProgress | undefined {
    return this.last.get(projection)?.status;
  }

  /** Resolves once the rebuild holds its lock and has begun; it then runs on in the background. */
  start(projection: Projection): Promise<RebuildProgress> {
    const rebuild = new ProjectionRebuild({
      projection, databaseUrl: this.config.CHAT_DATABASE_URL, pool: this.pool, js: this.js, jsm: this.jsm, names: this.names,
      fanoutMax: this.config.CHAT_PUSH_FANOUT_MAX, batchSize: this.config.CHAT_PROJECTOR_BATCH, blobs: this.blobs, log: this.log,
    });
    return new Promise((resolve, reject) => {
      let started = false;
      rebuild
        .run((p) => {
          if (started) return;
          started = true;
          this.last.set(projection, rebuild);
          resolve(p);
        })
        .catch((err: Error) => {
          if (!started) reject(err instanceof RebuildRunningError ? new ConflictException(err.message) : err);
          else this.log.error({ err: err.message }, 'rebuild failed');
        });
    });
  }
}
