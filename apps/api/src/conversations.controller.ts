import { Controller, Get, Inject, NotFoundException, Param, Query, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AdminGuard, TIERED } from '@chat/platform';
import { CorruptBlockError, ReadModelRepository, type TieredMessages } from '@chat/storage';
import { conversationIdParam, decodePage, encodePage, messagesQuery, pageQuery, parse, userIdParam } from './admin.routes';

/** `GET /v1/admin/conversations/:id` (with members) and its messages by seq. */
@Controller('v1/admin/conversations/:id')
@UseGuards(AdminGuard)
export class ConversationsController {
  constructor(
    private readonly readModel: ReadModelRepository,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  @Get()
  async conversation(@Param('id') rawId: string, @Query() query: unknown) {
    const id = parse(conversationIdParam, rawId, 'id');
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const conversation = await this.readModel.conversationDetails(id);
    if (!conversation) throw new NotFoundException('no such conversation');
    const members = await this.readModel.members(id, limit + 1, decodePage(userIdParam, cursor));
    const page = members.slice(0, limit);
    return { conversation, members: page, ...(members.length > limit && { next: encodePage(page[page.length - 1]!.userId) }) };
  }

  @Get('messages')
  async messages(@Param('id') rawId: string, @Query() query: unknown) {
    const id = parse(conversationIdParam, rawId, 'id');
    const q = parse(messagesQuery, query, 'query');
    if (!(await this.readModel.conversationDetails(id))) throw new NotFoundException('no such conversation');
    // The cursor is the last seq of the previous page; afterSeq/beforeSeq bound the range.
    const after = Math.max(q.afterSeq ?? 0, decodePage(z.number().int().min(0), q.cursor) ?? 0);
    const { messages, hasMore } = await this.tiered
      .page(id, { afterSeq: after, ...(q.beforeSeq !== undefined && { beforeSeq: q.beforeSeq }) }, q.limit, 'asc')
      .catch((err: Error) => {
        throw err instanceof CorruptBlockError ? new ServiceUnavailableException(err.message) : err;
      });
    return { messages, ...(hasMore && { next: encodePage(messages[messages.length - 1]!.seq) }) };
  }
}
