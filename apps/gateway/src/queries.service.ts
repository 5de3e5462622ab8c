import { Inject, Injectable } from '@nestjs/common';
import { TIERED } from '@chat/platform';
import type { AckResults, ChatEvent, ClientPayload } from '@chat/contracts';
import { ChatError, DEFAULT_HISTORY_LIMIT, DEFAULT_LIST_LIMIT, DEFAULT_SYNC_LIMIT } from '@chat/contracts';
import { decodeCursor, encodeCursor, ReadModelRepository, type TieredMessages } from '@chat/storage';
import { ConversationCache } from './conversation.cache';
import { requireMember } from './membership.guard';
import type { Session } from './token.verifier';

/** A snapshot carries this many latest messages of each conversation. */
const SNAPSHOT_MESSAGES = 20;
const SNAPSHOT_CONVERSATIONS = 1000;

/** Client reads: conversation list, history and sync, all from the read models. */
@Injectable()
export class QueriesService {
  constructor(
    private readonly readModel: ReadModelRepository,
    private readonly conversations: ConversationCache,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  async list(caller: Session, p: ClientPayload<'conversation:list'>): Promise<AckResults['conversation:list']> {
    const limit = p.limit ?? DEFAULT_LIST_LIMIT;
    const before = p.before === undefined ? undefined : decodeListCursor(p.before);
    const rows = await this.readModel.listConversations(caller.userId, limit + 1, before);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { conversations: page, ...(rows.length > limit && last && { next: encodeListCursor(last.lastActivityAt, last.id) }) };
  }

  async history(caller: Session, p: ClientPayload<'history'>): Promise<AckResults['history']> {
    await this.memberOf(caller.userId, p.conversationId);
    return this.tiered.page(p.conversationId, { ...(p.beforeSeq !== undefined && { beforeSeq: p.beforeSeq }) }, p.limit ?? DEFAULT_HISTORY_LIMIT, 'desc');
  }

  async sync(caller: Session, p: ClientPayload<'sync'>): Promise<AckResults['sync']> {
    if (p.since === undefined) return this.snapshot(caller.userId);
    const cursor = decodeCursor(p.since);
    if (!cursor) throw new ChatError('BAD_REQUEST', 'since: not a sync cursor');
    const limit = p.limit ?? DEFAULT_SYNC_LIMIT;
    const partitions = await this.readModel.eventsAfter(caller.userId, cursor.watermarks, limit);
    // A watermark below the pruning horizon is too old to serve; one past the checkpoint
    // was not written by this deployment's projection. Either way: start over with a
    // snapshot rather than leave a silent gap.
    if (partitions.some((p) => p.after < p.horizon || p.after > p.upto)) return { ...(await this.snapshot(caller.userId)), reset: true };

    const watermarks = [...cursor.watermarks];
    const events: ChatEvent[] = [];
    let hasMore = false;
    for (const part of partitions) {
      const room = limit - events.length;
      if (room <= 0) {
        hasMore ||= part.events.length > 0;
        continue;
      }
      // Each partition was read up to limit + 1 rows: taking all of them means nothing
      // is left below its checkpoint, so the watermark can move up to the checkpoint.
      const taken = part.events.slice(0, room);
      for (const e of taken) events.push(e.event);
      if (taken.length === part.events.length) {
        watermarks[part.partition] = part.upto;
      } else {
        hasMore = true;
        watermarks[part.partition] = taken[taken.length - 1]!.seq;
      }
    }
    return { next: encodeCursor({ watermarks: Array.from(watermarks, (w) => w ?? 0) }), events, hasMore };
  }

  private async snapshot(userId: string): Promise<AckResults['sync']> {
    const snap = await this.readModel.snapshot(userId, SNAPSHOT_MESSAGES, SNAPSHOT_CONVERSATIONS);
    // Conversations whose latest messages are partly archived: read those through the tiers.
    const events: ChatEvent[] = [];
    for (const c of snap.conversations) {
      const hot = snap.messages.filter((m) => m.conversationId === c.id);
      const want = Math.min(SNAPSHOT_MESSAGES, snap.messageCounts.get(c.id) ?? 0);
      events.push(...(hot.length >= want ? hot : (await this.tiered.page(c.id, {}, SNAPSHOT_MESSAGES, 'desc')).messages));
    }
    return {
      next: encodeCursor({ watermarks: snap.watermarks }),
      events,
      hasMore: false,
      conversations: snap.conversations,
    };
  }

  /** FORBIDDEN for a conversation the user is not in, whether it exists or not. */
  async memberOf(userId: string, conversationId: string) {
    return requireMember(await this.conversations.get(conversationId), userId);
  }
}

function encodeListCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeListCursor(text: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) return { at, id };
  } catch {
    // fall through
  }
  throw new ChatError('BAD_REQUEST', 'before: not a conversation list cursor');
}
