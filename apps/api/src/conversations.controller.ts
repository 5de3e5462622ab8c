import { Controller, Get, Inject, NotFoundException, Param, Query, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { HttpAnswer } from '@chat/contracts';
import { AdminGuard, TIERED } from '@chat/platform';
import { CorruptBlockError, ReadModelRepository, type TieredMessages } from '@chat/storage';
import { conversationIdParam, decodePage, encodePage, messagesQuery, pageQuery, parse, userIdParam } from './admin.routes';

/** A messages page's cursor: the last seq of a forward page, or `{ before }`, the first of a backward one. */
const messagesCursor = z.union([z.number().int().min(0), z.object({ before: z.number().int().min(1) }).strict()]);

/** `GET /v1/admin/conversations/:id` (with members) and its messages by seq. */
@Controller('v1/admin/conversations/:id')
@UseGuards(AdminGuard)
export class ConversationsController {
  constructor(
    private readonly readModel: ReadModelRepository,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  @Get()
  async conversation(@Param('id') rawId: string, @Query() query: unknown): Promise<HttpAnswer<'conversation'>> {
    const id = parse(conversationIdParam, rawId, 'id');
    const { limit, cursor } = parse(pageQuery, query, 'query');
    const conversation = await this.readModel.conversationDetails(id);
    if (!conversation) throw new NotFoundException('no such conversation');
    const members = await this.readModel.members(id, limit + 1, decodePage(userIdParam, cursor));
    const page = members.slice(0, limit);
    return { conversation, members: page, ...(members.length > limit && { next: encodePage(page[page.length - 1]!.userId) }) };
  }

  @Get('messages')
  async messages(@Param('id') rawId: string, @Query() query: unknown): Promise<HttpAnswer<'conversationMessages'>> {
    const id = parse(conversationIdParam, rawId, 'id');
    const q = parse(messagesQuery, query, 'query');
    if (!(await this.readModel.conversationDetails(id))) throw new NotFoundException('no such conversation');
    // A forward page's cursor is its last seq, a backward page's `{ before }` its first; afterSeq/beforeSeq bound the range.
    const cursor = decodePage(messagesCursor, q.cursor);
    const backwards = typeof cursor === 'object' || (cursor === undefined && (q.order ?? (q.beforeSeq !== undefined && q.afterSeq === undefined ? 'desc' : 'asc')) === 'desc');
    const after = Math.max(q.afterSeq ?? 0, typeof cursor === 'number' ? cursor : 0);
    const before = Math.min(q.beforeSeq ?? Number.MAX_SAFE_INTEGER, typeof cursor === 'object' ? cursor.before : Number.MAX_SAFE_INTEGER);
    const { messages, hasMore } = await this.tiered
      .page(id, { afterSeq: after, beforeSeq: before }, q.limit, backwards ? 'desc' : 'asc')
      .catch((err: Error) => {
        throw err instanceof CorruptBlockError ? new ServiceUnavailableException(err.message) : err;
      });
    const next = !hasMore ? undefined : backwards ? { before: messages[0]!.seq } : messages[messages.length - 1]!.seq;
    return { messages, ...(next !== undefined && { next: encodePage(next) }) };
  }
}
