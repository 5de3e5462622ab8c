import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { HttpAnswer } from '@chat/contracts';
import { AdminGuard } from '@chat/platform';
import { PushRepository } from '@chat/storage';
import { decodePage, encodePage, pageQuery, parse, userIdParam } from './admin.routes';

/**
 * `GET /v1/admin/users/:userId/push-decisions`: every wake-up decision for the user, newest
 * recorded first. `online` comes as ranges (`seq` to `toSeq`, `messages` of them), one per
 * conversation and notifier flush; every other decision names one message.
 */
@Controller('v1/admin/users/:userId/push-decisions')
@UseGuards(AdminGuard)
export class PushDecisionsController {
  constructor(private readonly push: PushRepository) {}

  @Get()
  async decisions(@Param('userId') rawUser: string, @Query() query: unknown): Promise<HttpAnswer<'pushDecisions'>> {
    const userId = parse(userIdParam, rawUser, 'userId');
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const rows = await this.push.decisions(userId, limit + 1, decodePage(z.number().int().min(1), cursor));
    const page = rows.slice(0, limit);
    return { decisions: page, ...(rows.length > limit && { next: encodePage(page[page.length - 1]!.id) }) };
  }
}
