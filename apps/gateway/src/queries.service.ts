import { Inject, Injectable } from '@nestjs/common';
import type { Session } from '@chat/auth';
import { ConversationCache, requireMember } from '@chat/commands';
import type { Config } from '@chat/config';
import { CONFIG, metrics, TIERED } from '@chat/platform';
import type { AckResults, ChatEvent, ClientPayload } from '@chat/contracts';
import { ChatError, DEFAULT_HISTORY_LIMIT, DEFAULT_LIST_LIMIT, DEFAULT_SYNC_LIMIT } from '@chat/contracts';
import { decodeCursor, decodeListCursor, encodeCursor, encodeListCursor, ReadModelRepository, type TieredMessages } from '@chat/storage';
import { AnswerBudget } from './answer.budget';

/** A snapshot carries this many latest messages of each conversation. */
const SNAPSHOT_MESSAGES = 20;
const SNAPSHOT_CONVERSATIONS = 1000;

/**
 * Client reads: conversation list, history and sync, all from the read models. Each answer
 * carries at most CHAT_MAX_ANSWER_BYTES of items (answer.budget.ts) and pages on as usual.
 */
/** Told what an answer cost in bytes: the connection's answer budget (rate-limiter.ts). */
export type AnswerMeter = (bytes: number) => void;
const ignore: AnswerMeter = () => undefined;

@Injectable()
export class QueriesService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly readModel: ReadModelRepository,
    private readonly conversations: ConversationCache,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  async list(caller: Session, p: ClientPayload<'conversation:list'>, spent: AnswerMeter = ignore): Promise<AckResults['conversation:list']> {
    const limit = p.limit ?? DEFAULT_LIST_LIMIT;
    const before = p.before === undefined ? undefined : decodeListCursor(p.before);
    if (p.before !== undefined && !before) throw new ChatError('BAD_REQUEST', 'before: not a conversation list cursor');
    const rows = await this.readModel.listConversations(caller.userId, limit + 1, before);
    const budget = this.budget();
    const page = budget.leading(rows.slice(0, limit));
    this.spent('conversation:list', budget, spent);
    const last = page[page.length - 1];
    const more = rows.length > page.length;
    return { conversations: page, ...(more && last && { next: encodeListCursor({ at: last.lastActivityAt, id: last.id }) }) };
  }

  /** The main timeline (no thread replies), or with threadRootSeq that thread's replies; either pages back from beforeSeq. */
  async history(caller: Session, p: ClientPayload<'history'>, spent: AnswerMeter = ignore): Promise<AckResults['history']> {
    await this.memberOf(caller.userId, p.conversationId);
    if (p.threadRootSeq !== undefined) await this.threadRoot(p.conversationId, p.threadRootSeq);
    const which = p.threadRootSeq === undefined ? 'main' : { threadRootSeq: p.threadRootSeq };
    const range = { ...(p.beforeSeq !== undefined && { beforeSeq: p.beforeSeq }) };
    const page = await this.tiered.page(p.conversationId, range, p.limit ?? DEFAULT_HISTORY_LIMIT, 'desc', which);
    // The newest that fit: the client pages back from the first one, as always.
    const budget = this.budget();
    const messages = budget.trailing(page.messages);
    // A trimmed page still read every row of it: the answer bytes charged are what was read.
    this.spent('history', budget, spent, page.messages.length / Math.max(1, messages.length));
    return { messages, hasMore: page.hasMore || messages.length < page.messages.length };
  }

  /** Every member's read marker, for "seen by": small conversations only, like the live `read` events that keep it current. */
  async receipts(caller: Session, p: ClientPayload<'receipts'>): Promise<AckResults['receipts']> {
    const c = await this.memberOf(caller.userId, p.conversationId);
    if (c.members.size >= this.config.CHAT_PUSH_FANOUT_MAX) {
      throw new ChatError('BAD_REQUEST', `receipts are kept for conversations of fewer than ${this.config.CHAT_PUSH_FANOUT_MAX} members`);
    }
    return { members: await this.readModel.receipts(p.conversationId) };
  }

  async sync(caller: Session, p: ClientPayload<'sync'>, spent: AnswerMeter = ignore): Promise<AckResults['sync']> {
    if (p.since === undefined) return this.snapshot(caller.userId, spent);
    const cursor = decodeCursor(p.since);
    if (!cursor) throw new ChatError('BAD_REQUEST', 'since: not a sync cursor');
    const limit = p.limit ?? DEFAULT_SYNC_LIMIT;
    const partitions = await this.readModel.eventsAfter(caller.userId, cursor.watermarks, limit);
    // A watermark below the pruning horizon is too old to serve; one past the checkpoint
    // was not written by this deployment's projection. Either way: start over with a
    // snapshot rather than leave a silent gap.
    if (partitions.some((p) => p.after < p.horizon || p.after > p.upto)) return { ...(await this.snapshot(caller.userId, spent)), reset: true };

    const watermarks = [...cursor.watermarks];
    const events: ChatEvent[] = [];
    let hasMore = false;
    const budget = this.budget();
    for (const part of partitions) {
      const room = limit - events.length;
      if (room <= 0 || budget.exhausted) {
        hasMore ||= part.events.length > 0;
        continue;
      }
      // Each partition was read up to limit + 1 rows: taking all of them means nothing
      // is left below its checkpoint, so the watermark can move up to the checkpoint.
      const taken = budget.leading(part.events.slice(0, room), (e) => e.event);
      for (const e of taken) events.push(e.event);
      if (taken.length === part.events.length) {
        watermarks[part.partition] = part.upto;
      } else {
        hasMore = true;
        // Nothing of this partition fitted: its watermark stays where it was.
        if (taken.length > 0) watermarks[part.partition] = taken[taken.length - 1]!.seq;
      }
    }
    this.spent('sync', budget, spent);
    return { next: encodeCursor({ watermarks: Array.from(watermarks, (w) => w ?? 0) }), events, hasMore };
  }

  /**
   * Conversations newest activity first, then the latest messages of each, as long as the
   * budget lasts: a conversation past it comes with fewer messages or none (history has
   * them). The cursor is the snapshot's either way: nothing after it is missed.
   */
  private async snapshot(userId: string, spent: AnswerMeter): Promise<AckResults['sync']> {
    const snap = await this.readModel.snapshot(userId, SNAPSHOT_MESSAGES, SNAPSHOT_CONVERSATIONS);
    const budget = this.budget();
    const conversations = budget.leading(snap.conversations);
    const events: ChatEvent[] = [];
    for (const c of conversations) {
      if (budget.exhausted) break;
      const hot = snap.messages.filter((m) => m.conversationId === c.id);
      const want = Math.min(SNAPSHOT_MESSAGES, snap.messageCounts.get(c.id) ?? 0);
      // Conversations whose latest messages are partly archived: read those through the tiers.
      const latest = hot.length >= want ? hot : (await this.tiered.page(c.id, {}, SNAPSHOT_MESSAGES, 'desc', 'main')).messages;
      events.push(...budget.trailing(latest));
    }
    this.spent('sync', budget, spent);
    return {
      next: encodeCursor({ watermarks: snap.watermarks }),
      events,
      hasMore: false,
      conversations,
    };
  }

  private budget(): AnswerBudget {
    return new AnswerBudget(this.config.CHAT_MAX_ANSWER_BYTES);
  }

  private spent(query: 'sync' | 'history' | 'conversation:list', budget: AnswerBudget, meter: AnswerMeter, readPerAnswered = 1): void {
    metrics.answerBytes.inc({ query }, budget.spent);
    meter(Math.round(budget.spent * readPerAnswered));
  }

  /** A thread's root: a message of the conversation, in any tier, that is not itself a reply. */
  private async threadRoot(conversationId: string, seq: number): Promise<void> {
    const root = (await this.tiered.at(conversationId, [seq])).get(seq);
    if (!root) throw new ChatError('NOT_FOUND', 'threadRootSeq: no such message');
    if (root.threadRootSeq !== undefined) throw new ChatError('BAD_REQUEST', 'threadRootSeq: a reply has no thread of its own');
  }

  /** FORBIDDEN for a conversation the user is not in, whether it exists or not. */
  async memberOf(userId: string, conversationId: string) {
    return requireMember(await this.conversations.get(conversationId), userId);
  }
}
