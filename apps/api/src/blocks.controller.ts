import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BlockNotice, Names } from '@chat/messaging';
import { AdminGuard, NAMES, NATS } from '@chat/platform';
import { BlockRepository } from '@chat/storage';
import { decodePage, encodePage, pageQuery, parse, userIdParam } from './admin.routes';

/**
 * Blocking a user across the deployment: the block is written to Postgres (what a gateway
 * loads at start and reads again every 30 s), then announced on `<ns>.blocks`, on which
 * every gateway closes the user's sockets at once; connects are refused `blocked` until
 * the unblock. The answer comes once the notice is on its way (flushed to NATS).
 */
@Controller('v1/admin')
@UseGuards(AdminGuard)
export class BlocksController {
  constructor(
    private readonly blocks: BlockRepository,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly names: Names,
  ) {}

  @Post('users/:userId/block')
  @HttpCode(200)
  async block(@Param('userId') rawUser: string) {
    const userId = parse(userIdParam, rawUser, 'userId');
    const { blockedAt } = await this.blocks.block(userId);
    await this.announce({ userId, blocked: true });
    return { userId, blocked: true, blockedAt };
  }

  @Delete('users/:userId/block')
  @HttpCode(200)
  async unblock(@Param('userId') rawUser: string) {
    const userId = parse(userIdParam, rawUser, 'userId');
    const was = await this.blocks.unblock(userId);
    await this.announce({ userId, blocked: false });
    return { userId, blocked: false, wasBlocked: was };
  }

  @Get('users/:userId/block')
  async status(@Param('userId') rawUser: string) {
    const userId = parse(userIdParam, rawUser, 'userId');
    const found = await this.blocks.get(userId);
    return { userId, blocked: found !== undefined, ...(found && { blockedAt: found.blockedAt }) };
  }

  @Get('blocks')
  async list(@Query() query: unknown) {
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const rows = await this.blocks.page(limit + 1, decodePage(userIdParam, cursor));
    const page = rows.slice(0, limit);
    return { blocks: page, ...(rows.length > limit && { next: encodePage(page[page.length - 1]!.userId) }) };
  }

  private async announce(notice: BlockNotice): Promise<void> {
    this.nc.publish(this.names.blocks(), JSON.stringify(notice));
    await this.nc.flush();
  }
}
