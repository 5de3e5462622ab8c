import { Controller, Get, UseGuards } from '@nestjs/common';
import type { HttpAnswer } from '@chat/contracts';
import { AdminGuard } from '@chat/platform';
import { ArchiveRepository } from '@chat/storage';

/** `GET /v1/admin/storage`: messages and bytes per tier, oldest and newest, and damaged blocks. */
@Controller('v1/admin/storage')
@UseGuards(AdminGuard)
export class StorageController {
  constructor(private readonly archive: ArchiveRepository) {}

  @Get()
  storage(): Promise<HttpAnswer<'storage'>> {
    return this.archive.stats();
  }
}
