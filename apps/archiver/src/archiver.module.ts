import { Module } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Config } from '@chat/config';
import type { Names } from '@chat/messaging';
import { BLOBS, CONFIG, NAMES, PG_POOL } from '@chat/platform';
import { ArchiveRepository, type BlobStore } from '@chat/storage';
import { ArchiverService, crashHook } from './archiver.service';
import { AttachmentCollector } from './attachment.collector';

/** The archiver: moves messages down the storage tiers, and deletes attachment objects nobody may fetch any more. */
@Module({
  providers: [
    ArchiverService,
    AttachmentCollector,
    {
      provide: ArchiveRepository,
      inject: [PG_POOL, BLOBS, CONFIG, NAMES],
      useFactory: (pool: Pool, blobs: BlobStore, config: Config, names: Names) =>
        new ArchiveRepository(pool, blobs, names.blocksPrefix(), crashHook(config.CHAT_TEST_ARCHIVER_CRASH)),
    },
  ],
})
export class ArchiverModule {}
