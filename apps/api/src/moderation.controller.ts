import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CommandsService, type Caller } from '@chat/commands';
import { ChatError, cursorTimestamp, parsePayload, type Message } from '@chat/contracts';
import { CONVERSATION_ID_PATTERN, OPERATOR } from '@chat/domain';
import { AdminGuard, TIERED } from '@chat/platform';
import { ReadModelRepository, type Report, type TieredMessages } from '@chat/storage';
import { conversationIdParam, decodePage, encodePage, muteBody, parse, reportsQuery, seqParam, userIdParam } from './admin.routes';

/** The operator acts as nobody's socket: every member's devices get the live events. */
const OPERATOR_CALLER: Caller = { userId: OPERATOR };

const reportCursor = z.object({ at: cursorTimestamp, conversationId: z.string().regex(CONVERSATION_ID_PATTERN), seq: z.number().int().min(1) }).strict();

/**
 * The operator's moderation: the reports members made, newest first with each reported
 * message in context, and what the operator does about one (delete the message, mute or
 * remove its author). Each change is an event in the conversation's log by `~operator`,
 * carried out by the same commands as the sockets', whatever the operator's membership.
 * Refusals are the commands' codes as statuses (400, 403, 404, 503) with
 * `{ error: { code, message }, message }`.
 */
@Controller('v1/admin')
@UseGuards(AdminGuard)
export class ModerationController {
  constructor(
    private readonly commands: CommandsService,
    private readonly readModel: ReadModelRepository,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  @Get('reports')
  async reports(@Query() query: unknown) {
    const { limit, cursor, context } = parse(reportsQuery, query, 'query');
    const rows = await this.readModel.reports(limit + 1, decodePage(reportCursor, cursor));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      reports: await Promise.all(page.map((r) => this.inContext(r, context))),
      ...(rows.length > limit && last && { next: encodePage({ at: last.reportedAt, conversationId: last.conversationId, seq: last.seq }) }),
    };
  }

  /** The report with the reported message as it is now (deleted, edited) and its neighbours. */
  private async inContext(r: Report, around: number) {
    const message = (await this.tiered.at(r.conversationId, [r.targetSeq])).get(r.targetSeq);
    const which = message?.threadRootSeq !== undefined ? { threadRootSeq: message.threadRootSeq } : ('main' as const);
    const [before, after] = around === 0 ? [[], []] : await Promise.all([
      this.tiered.page(r.conversationId, { beforeSeq: r.targetSeq }, around, 'desc', which).then((p) => p.messages),
      this.tiered.page(r.conversationId, { afterSeq: r.targetSeq }, around, 'asc', which).then((p) => p.messages),
    ]);
    const context: Message[] = [...before, ...(message ? [message] : []), ...after];
    return { ...r, ...(message && { message }), context };
  }

  @Delete('conversations/:id/messages/:seq')
  @HttpCode(200)
  async deleteMessage(@Param('id') rawId: string, @Param('seq') rawSeq: string) {
    const conversationId = parse(conversationIdParam, rawId, 'id');
    const seq = parse(seqParam, rawSeq, 'seq');
    return this.commands.delete(OPERATOR_CALLER, { conversationId, seq });
  }

  @Delete('conversations/:id/members/:userId')
  @HttpCode(200)
  async removeMember(@Param('id') rawId: string, @Param('userId') rawUser: string) {
    const conversationId = parse(conversationIdParam, rawId, 'id');
    const userId = parse(userIdParam, rawUser, 'userId');
    return this.commands.removeMembers(OPERATOR_CALLER, { conversationId, userIds: [userId] });
  }

  @Post('conversations/:id/members/:userId/mute')
  @HttpCode(200)
  async mute(@Param('id') rawId: string, @Param('userId') rawUser: string, @Body() body: unknown) {
    const conversationId = parse(conversationIdParam, rawId, 'id');
    const userId = parse(userIdParam, rawUser, 'userId');
    const parsed = parsePayload(muteBody, body ?? {});
    if (!parsed.ok) throw new ChatError(parsed.code, parsed.message);
    return this.commands.mute(OPERATOR_CALLER, { conversationId, userId, ...(parsed.value.until !== undefined && { until: parsed.value.until }) });
  }

  @Delete('conversations/:id/members/:userId/mute')
  @HttpCode(200)
  async unmute(@Param('id') rawId: string, @Param('userId') rawUser: string) {
    const conversationId = parse(conversationIdParam, rawId, 'id');
    const userId = parse(userIdParam, rawUser, 'userId');
    return this.commands.unmute(OPERATOR_CALLER, { conversationId, userId });
  }
}
