import { Module } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@chat/platform';
import { ReadModelRepository } from '@chat/storage';
import { AdminGuard } from '@chat/platform';
import { ProjectionsController } from './projections.controller';
import { RebuildService } from './rebuild.service';

/** The admin REST API: bearer CHAT_ADMIN_TOKEN on every route. */
@Module({
  controllers: [ProjectionsController],
  providers: [
    AdminGuard,
    RebuildService,
    { provide: ReadModelRepository, inject: [PG_POOL], useFactory: (pool: Pool) => new ReadModelRepository(pool) },
  ],
})
export class ApiModule {}
