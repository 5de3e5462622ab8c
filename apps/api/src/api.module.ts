import { Module } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Config } from '@chat/config';
import { AdminGuard, BLOBS, CONFIG, PG_POOL } from '@chat/platform';
import { ArchiveRepository, TIMELINE, type BlobStore } from '@chat/storage';
import { AdminPageController } from './admin-page.controller';
import { ConversationsController } from './conversations.controller';
import { DocsController } from './docs.controller';
import { ProjectionsController } from './projections.controller';
import { PushDecisionsController } from './push-decisions.controller';
import { RebuildService } from './rebuild.service';
import { StorageController } from './storage.controller';
import { UsersController } from './users.controller';
import { WebhooksController } from './webhooks.controller';

/** The admin REST API: bearer CHAT_ADMIN_TOKEN on every route. */
@Module({
  controllers: [ProjectionsController, UsersController, ConversationsController, StorageController, DocsController, AdminPageController, PushDecisionsController, WebhooksController],
  providers: [
    AdminGuard,
    RebuildService,
    {
      provide: ArchiveRepository,
      inject: [PG_POOL, BLOBS, CONFIG],
      useFactory: (pool: Pool, blobs: BlobStore, config: Config) => new ArchiveRepository(pool, blobs, `${config.CHAT_NAMESPACE}/${TIMELINE}/`),
    },
  ],
})
export class ApiModule {}
