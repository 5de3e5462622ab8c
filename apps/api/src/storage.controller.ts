import { Controller, Get, UseGuards } from '@nestjs/common';
import { AdminGuard } from '@chat/platform';
import { ReadModelRepository } from '@chat/storage';

/** `GET /v1/admin/storage`: messages and bytes per storage tier. */
@Controller('v1/admin/storage')
@UseGuards(AdminGuard)
export class StorageController {
  constructor(private readonly readModel: ReadModelRepository) {}

  @Get()
  async storage() {
    return { tiers: [await this.readModel.hotTierStats()] };
  }
}
