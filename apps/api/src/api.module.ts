import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Pool } from 'pg';
import { clientTokens, TokenVerifier } from '@chat/auth';
import { CommandsModule } from '@chat/commands';
import type { Names } from '@chat/messaging';
import { AdminGuard, BLOBS, CONFIG, NAMES, PG_POOL } from '@chat/platform';
import { ArchiveRepository, type BlobStore } from '@chat/storage';
import { AdminPageController } from './admin-page.controller';
import { BlocksController } from './blocks.controller';
import { ConversationsController } from './conversations.controller';
import { DocsController } from './docs.controller';
import { ModerationController } from './moderation.controller';
import { ProjectionsController } from './projections.controller';
import { PushDecisionsController } from './push-decisions.controller';
import { RebuildService } from './rebuild.service';
import { ServerApiController } from './server-api.controller';
import { ServerApiErrors } from './server-api.errors';
import { StorageController } from './storage.controller';
import { UsersController } from './users.controller';
import { WebhooksController } from './webhooks.controller';

/**
 * The admin REST API and the server API for integrators (`/v1/server/*`, commands as a
 * user through the same CommandsModule as the sockets): bearer CHAT_ADMIN_TOKEN on every route.
 */
@Module({
  imports: [CommandsModule],
  controllers: [ProjectionsController, UsersController, ConversationsController, StorageController, DocsController, AdminPageController, PushDecisionsController, WebhooksController, ServerApiController, ModerationController, BlocksController],
  providers: [
    AdminGuard,
    RebuildService,
    { provide: APP_FILTER, useClass: ServerApiErrors },
    { provide: TokenVerifier, inject: [CONFIG], useFactory: clientTokens },
    {
      provide: ArchiveRepository,
      inject: [PG_POOL, BLOBS, NAMES],
      useFactory: (pool: Pool, blobs: BlobStore, names: Names) => new ArchiveRepository(pool, blobs, names.blocksPrefix()),
    },
  ],
})
export class ApiModule {}
