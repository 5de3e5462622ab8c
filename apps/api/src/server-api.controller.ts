import { Body, Controller, Delete, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { TokenVerifier } from '@chat/auth';
import { CommandsService, ConversationCache, PerUserBudget } from '@chat/commands';
import type { Config } from '@chat/config';
import { ChatError, parsePayload, serverPayloads, type HttpAnswer } from '@chat/contracts';
import { AdminGuard, CONFIG } from '@chat/platform';
import type { z } from 'zod';
import { conversationIdParam, userIdParam } from './admin.routes';

/** A token's lifetime when the request names none: a day, or CHAT_JWT_MAX_TTL if shorter (as development tokens). */
const DEFAULT_TTL_S = 86_400;

/**
 * `/v1/server/*`: what an integrator's backend does as one of its users, with the same
 * commands, rules and idempotency as that user's sockets (CommandsService). Bearer
 * CHAT_ADMIN_TOKEN; every success is 200, every refusal its code's status (server-api.errors.ts).
 */
@Controller('v1/server')
@UseGuards(AdminGuard)
export class ServerApiController {
  /** Sends per senderId: one connection's budget (CHAT_SEND_RATE, CHAT_SEND_BURST) in this process. */
  private readonly sends: PerUserBudget;

  constructor(
    @Inject(CONFIG) config: Config,
    private readonly commands: CommandsService,
    private readonly conversations: ConversationCache,
    private readonly tokens: TokenVerifier,
  ) {
    this.sends = new PerUserBudget(config.CHAT_SEND_RATE, config.CHAT_SEND_BURST);
  }

  @Post('tokens')
  @HttpCode(200)
  async token(@Body() body: unknown): Promise<HttpAnswer<'serverToken'>> {
    const p = valid(serverPayloads.token, body);
    const ttl = p.ttlSeconds ?? Math.min(DEFAULT_TTL_S, this.tokens.maxTtlS);
    if (ttl > this.tokens.maxTtlS) throw new ChatError('BAD_REQUEST', `ttlSeconds: at most ${this.tokens.maxTtlS} (CHAT_JWT_MAX_TTL)`);
    const { token, exp } = await this.tokens.mint(p.userId, p.deviceId, ttl);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  @Post('conversations')
  @HttpCode(200)
  async create(@Body() body: unknown): Promise<HttpAnswer<'serverConversation'>> {
    const { createdBy, ...p } = valid(serverPayloads.createConversation, body);
    return this.commands.create({ userId: createdBy }, p);
  }

  @Post('conversations/:id/members')
  @HttpCode(200)
  async addMembers(@Param('id') rawId: string, @Body() body: unknown): Promise<HttpAnswer<'serverSeq'>> {
    const conversationId = valid(conversationIdParam, rawId, 'id');
    const { by, userIds } = valid(serverPayloads.addMembers, body);
    await this.existing(conversationId);
    return this.commands.addMembers({ userId: by }, { conversationId, userIds });
  }

  @Delete('conversations/:id/members/:userId')
  @HttpCode(200)
  async removeMember(@Param('id') rawId: string, @Param('userId') rawUser: string, @Query() query: unknown): Promise<HttpAnswer<'serverSeq'>> {
    const conversationId = valid(conversationIdParam, rawId, 'id');
    const userId = valid(userIdParam, rawUser, 'userId');
    const { by } = valid(serverPayloads.removeMember, query);
    await this.existing(conversationId);
    return this.commands.removeMembers({ userId: by }, { conversationId, userIds: [userId] });
  }

  @Post('conversations/:id/messages')
  @HttpCode(200)
  async send(@Param('id') rawId: string, @Body() body: unknown): Promise<HttpAnswer<'serverSend'>> {
    const conversationId = valid(conversationIdParam, rawId, 'id');
    const { senderId, ...p } = valid(serverPayloads.sendMessage, body);
    // Resends spend the budget too, as on a socket: a retry loop is limited like a flood.
    const wait = this.sends.take(senderId);
    if (wait > 0) throw new ChatError('RATE_LIMITED', `too many sends by ${senderId}`, wait);
    await this.existing(conversationId);
    return this.commands.send({ userId: senderId }, { conversationId, ...p });
  }

  /**
   * The conversation as the read model has it now, put in the cache the command checks
   * against: this process sees no deliveries that would tell it of membership changes
   * made elsewhere, so it reads rather than trusting an entry up to its TTL. The
   * integrator holds the admin token and may read any conversation already, so an unknown
   * one is NOT_FOUND here; a socket gets FORBIDDEN for it, like for a conversation it is
   * not in, so that trying ids tells a stranger nothing.
   */
  private async existing(conversationId: string): Promise<void> {
    if (!(await this.conversations.refresh(conversationId))) throw new ChatError('NOT_FOUND', 'no such conversation');
  }
}

/** A request part as its schema has it, or the socket's error for it (BAD_REQUEST, PAYLOAD_TOO_LARGE) naming the field. */
function valid<T extends z.ZodType>(schema: T, value: unknown, where?: string): z.infer<T> {
  const parsed = parsePayload(schema, value);
  if (parsed.ok) return parsed.value;
  throw new ChatError(parsed.code, where && parsed.message.startsWith('payload:') ? `${where}:${parsed.message.slice('payload:'.length)}` : parsed.message);
}
