import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ConnectionRegistry } from '@chat/connections';
import { cursorText, listPosition, type HttpAnswer } from '@chat/contracts';
import { AdminGuard } from '@chat/platform';
import { ReadModelRepository } from '@chat/storage';
import { decodePage, encodePage, pageQuery, parse, userIdParam } from './admin.routes';

/** `GET /v1/admin/users/:userId/...`: a user's conversations, presence and connections. */
@Controller('v1/admin/users/:userId')
@UseGuards(AdminGuard)
export class UsersController {
  constructor(
    private readonly readModel: ReadModelRepository,
    private readonly registry: ConnectionRegistry,
  ) {}

  @Get('conversations')
  async conversations(@Param('userId') rawUser: string, @Query() query: unknown): Promise<HttpAnswer<'userConversations'>> {
    const userId = parse(userIdParam, rawUser, 'userId');
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const before = decodePage(listPosition, cursor);
    const rows = await this.readModel.listConversations(userId, limit + 1, before);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { conversations: page, ...(rows.length > limit && last && { next: encodePage({ at: last.lastActivityAt, id: last.id }) }) };
  }

  @Get('presence')
  async presence(@Param('userId') rawUser: string): Promise<HttpAnswer<'userPresence'>> {
    const [presence] = await this.registry.presence([parse(userIdParam, rawUser, 'userId')]);
    return presence;
  }

  @Get('connections')
  async connections(@Param('userId') rawUser: string, @Query() query: unknown): Promise<HttpAnswer<'userConnections'>> {
    const userId = parse(userIdParam, rawUser, 'userId');
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const after = decodePage(cursorText, cursor) ?? '';
    // Ordered by code units, as the cursor's `>` compares (localeCompare would disagree on case).
    const all = (await this.registry.leases(userId)).sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0)).filter((l) => l.connectionId > after);
    const page = all.slice(0, limit);
    return { connections: page, ...(all.length > limit && { next: encodePage(page[page.length - 1]!.connectionId) }) };
  }
}
