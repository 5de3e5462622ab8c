import type { Pool } from 'pg';
import { inTransaction } from './database';
import { MODERATION_COLUMNS, moderationOf, type ModerationRow } from './moderation.state';
import { UNREAD, UNREAD_MENTIONS } from './unread';
import { SUMMARY_MEMBERS_MAX, type ChatEvent, type ConversationInfo, type ConversationSummary, type Message, type NotifyLevel } from '@chat/contracts';
import { rolesOf, type Conversation } from '@chat/domain';

export interface ConversationRecord extends Conversation {
  partition: number;
}

/** A member's report of a message (`seq`: the report's own place in the log). */
export interface Report {
  conversationId: string;
  seq: number;
  targetSeq: number;
  reportedBy: string;
  reason: string;
  reportedAt: string;
}

export interface SentMessage {
  conversationId: string;
  seq: number;
  sentAt: string;
}

export interface PartitionEvents {
  partition: number;
  after: number;
  upto: number;
  /** Inbox rows at or below this were pruned: a watermark below it cannot be served. */
  horizon: number;
  events: Array<{ seq: number; event: ChatEvent }>;
}

interface SummaryRow {
  id: string; user_id: string; kind: 'direct' | 'group'; title: string | null; member_count: number; last_seq: string;
  last_read_seq: string; unread: string; unread_mentions: string; last_message: Message | null; last_activity_at: Date; member_ids: string[] | null;
  notify_level: NotifyLevel; mute_until: Date | null;
  moderators: string[] | null; owner: string | null; slow_mode_seconds: number; muted: boolean; muted_until: Date | null;
}

/** The gateway's reads: every query a client's request can cause, and nothing that writes. */
export class ReadModelRepository {
  constructor(
    private readonly pool: Pool,
    private readonly projection = 'timeline',
  ) {}

  async conversation(id: string): Promise<ConversationRecord | undefined> {
    const { rows } = await this.pool.query<ModerationRow & {
      id: string; partition: number; kind: 'direct' | 'group'; title: string | null; created_by: string;
      created_at: Date; last_seq: string; message_count: string; members: string[] | null;
    }>(
      // Moderators, mutes and slow mode come along (the gateway checks them before it
      // appends); members' last sends are read apart, only for a send in slow mode (lastSend).
      `SELECT c.id, c.partition, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.message_count,
              (SELECT array_agg(m.user_id ORDER BY m.joined_seq, m.user_id) FROM members m WHERE m.conversation_id = c.id) AS members,
              ${MODERATION_COLUMNS}
         FROM conversations c WHERE c.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id, partition: r.partition, kind: r.kind, createdBy: r.created_by, createdAt: r.created_at.toISOString(),
      members: new Set(r.members ?? []), lastSeq: Number(r.last_seq), messageCount: Number(r.message_count),
      ...(r.title !== null && { title: r.title }),
      ...moderationOf(r),
    };
  }

  /**
   * A member's latest send after `afterSeq` (the seq slow mode was set at): one probe of
   * timeline_senders, made only for sends to a conversation in slow mode.
   */
  async lastSend(conversationId: string, senderId: string, afterSeq: number): Promise<{ seq: number; at: string } | undefined> {
    const { rows } = await this.pool.query<{ seq: string; at: Date }>({
      name: 'last-send',
      text: `SELECT seq, at FROM timeline WHERE conversation_id = $1 AND kind = 'message' AND payload->>'senderId' = $2 AND seq > $3
              ORDER BY seq DESC LIMIT 1`,
      values: [conversationId, senderId, afterSeq],
    });
    return rows[0] && { seq: Number(rows[0].seq), at: rows[0].at.toISOString() };
  }

  /** A conversation as the admin API shows it, with its counters. */
  async conversationDetails(id: string) {
    const { rows } = await this.pool.query<{
      id: string; partition: number; kind: string; title: string | null; created_by: string; created_at: Date; last_seq: string;
      message_count: string; member_count: number; last_activity_at: Date;
    }>(
      `SELECT id, partition, kind, title, created_by, created_at, last_seq, message_count, member_count, last_activity_at
         FROM conversations WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r && {
      id: r.id, type: r.kind, partition: r.partition, createdBy: r.created_by, createdAt: r.created_at.toISOString(),
      lastSeq: Number(r.last_seq), messageCount: Number(r.message_count), memberCount: r.member_count,
      lastActivityAt: r.last_activity_at.toISOString(), ...(r.title !== null && { title: r.title }),
    };
  }

  /** A page of a conversation's members by user id, with their read state. */
  async members(conversationId: string, limit: number, afterUserId?: string) {
    const { rows } = await this.pool.query<{ user_id: string; joined_seq: string; last_read_seq: string; unread: string }>(
      `SELECT m.user_id, m.joined_seq, m.last_read_seq, ${UNREAD} AS unread
         FROM members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.conversation_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`,
      [conversationId, afterUserId ?? '', limit],
    );
    return rows.map((r) => ({ userId: r.user_id, joinedSeq: Number(r.joined_seq), lastReadSeq: Number(r.last_read_seq), unread: Number(r.unread) }));
  }

  /** The user's conversations with at least `size` members: their events come through rooms. */
  async largeConversationsOf(userId: string, size: number): Promise<string[]> {
    return (await this.largeConversationsOfMany([userId], size)).get(userId) ?? [];
  }

  /**
   * largeConversationsOf for many users in one query (handshakes admitted together). Each
   * of their memberships looks its conversation up by key (the LIMIT keeps the planner
   * from turning that into a hash join over every conversation, which it prefers for a
   * few thousand memberships and which grows with the table, not with the batch).
   */
  async largeConversationsOfMany(userIds: string[], size: number): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    if (userIds.length === 0) return byUser;
    const { rows } = await this.pool.query<{ user_id: string; id: string }>(
      `SELECT m.user_id, c.id FROM members m
         CROSS JOIN LATERAL (SELECT id FROM conversations WHERE id = m.conversation_id AND member_count >= $2 LIMIT 1) c
        WHERE m.user_id = ANY($1::text[])`,
      [[...new Set(userIds)], size],
    );
    for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r.id]);
    return byUser;
  }

  /**
   * Those of `others` who share at least one conversation with `userId` now. Each is a
   * join of two users' memberships on the conversation id, both read in that order from
   * members_by_user: the work grows with the conversations of the two, not with the table.
   */
  async sharingAConversation(userId: string, others: string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT o.user_id FROM unnest($2::text[]) AS o(user_id)
        WHERE EXISTS (SELECT 1 FROM members a JOIN members b ON b.conversation_id = a.conversation_id AND b.user_id = $1
                       WHERE a.user_id = o.user_id)`,
      [userId, [...new Set(others)]],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  /** Why the projection refused the event at (partition, seq), if it did. */
  async rejection(partition: number, seq: number): Promise<{ code: string; reason: string } | undefined> {
    const { rows } = await this.pool.query<{ code: string; reason: string }>(
      'SELECT code, reason FROM rejected_events WHERE partition = $1 AND seq = $2',
      [partition, seq],
    );
    return rows[0];
  }

  async directConversationId(directKey: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM conversations WHERE direct_key = $1', [directKey]);
    return rows[0]?.id;
  }

  /** The originals of these (sender, clientMsgId) pairs, where they were projected. */
  async sentMessages(pairs: Array<{ senderId: string; clientMsgId: string }>): Promise<Map<string, SentMessage>> {
    const { rows } = await this.pool.query<{ sender_id: string; client_msg_id: string; conversation_id: string; seq: string; sent_at: Date }>({
      // Prepared once per connection: asked for with nearly every send. LATERAL ... OFFSET 0
      // (a subquery the planner cannot merge into a join): one index probe per pair, never a
      // hash join over the whole table, whatever the planner guesses of the table or arrays.
      name: 'sent-messages',
      text: `SELECT s.sender_id, s.client_msg_id, s.conversation_id, s.seq, s.sent_at FROM unnest($1::text[], $2::text[]) AS x(sender_id, client_msg_id)
        CROSS JOIN LATERAL (SELECT * FROM client_msg_ids s WHERE s.sender_id = x.sender_id AND s.client_msg_id = x.client_msg_id OFFSET 0) s`,
      values: [pairs.map((p) => p.senderId), pairs.map((p) => p.clientMsgId)],
    });
    return new Map(
      rows.map((r) => [`${r.sender_id}\n${r.client_msg_id}`, { conversationId: r.conversation_id, seq: Number(r.seq), sentAt: r.sent_at.toISOString() }]),
    );
  }

  /** A user's conversations, most recent activity first, `before` = the last one of the previous page. */
  async listConversations(userId: string, limit: number, before?: { at: string; id: string }): Promise<ConversationSummary[]> {
    const { rows } = await this.pool.query<SummaryRow>(
      `${SUMMARY_SELECT}
        WHERE m.user_id = $1 AND ($2::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($2::timestamptz, $3::text))
        ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4`,
      [userId, before?.at ?? null, before?.id ?? '', limit],
    );
    return rows.map(toSummary);
  }

  /** A conversation's events after `afterSeq` in the hot tier, ascending: what a room subscription made late may have missed. */
  async timelineAfter(conversationId: string, afterSeq: number, limit: number): Promise<ChatEvent[]> {
    const { rows } = await this.pool.query<{ payload: ChatEvent }>(
      // A member's own notification setting is its devices' only, never the room's.
      `SELECT payload FROM timeline WHERE conversation_id = $1 AND seq > $2 AND kind <> 'notify' ORDER BY seq LIMIT $3`,
      [conversationId, afterSeq, limit],
    );
    return rows.map((r) => r.payload);
  }

  /**
   * The events a user may see after each watermark, up to the projector's checkpoint, in
   * one statement so that checkpoints and rows come from one snapshot: its inbox rows
   * (push) and the pulled timeline rows of every conversation it was a member of at the
   * time (pull), merged by seq per partition.
   *
   * A row changed after it was written (a message edited, reacted to or deleted; an edit
   * emptied by a delete) is left out unless the user was a member at its last change or
   * later (SEEN_AS_CHANGED): a removed member sees each message as it was while it was a
   * member, or not at all. The read model keeps a message's latest state only, so the
   * state at the removal cannot be shown. Rows never changed need no lookup.
   */
  async eventsAfter(userId: string, watermarks: number[], limit: number): Promise<PartitionEvents[]> {
    const { rows } = await this.pool.query<{ partition: number; after: string; upto: string; horizon: string; seq: string | null; payload: ChatEvent | null }>(
      `WITH w AS (
         SELECT c.partition, COALESCE(x.after, 0) AS after, c.last_seq AS upto, COALESCE(h.seq, 0) AS horizon
           FROM checkpoints c
           LEFT JOIN unnest($2::bigint[]) WITH ORDINALITY AS x(after, n) ON x.n - 1 = c.partition
           LEFT JOIN sync_horizon h ON h.partition = c.partition
          WHERE c.projection = $4)
       SELECT w.partition, w.after, w.upto, w.horizon, e.seq, e.payload
         FROM w LEFT JOIN LATERAL (
           SELECT u.seq, u.payload FROM (
             SELECT i.seq, t.payload FROM inbox i
               JOIN timeline t ON t.conversation_id = i.conversation_id AND t.seq = i.seq
              WHERE i.user_id = $1 AND i.partition = w.partition AND i.seq > w.after AND i.seq <= w.upto
                AND ${SEEN_AS_CHANGED}
             UNION ALL
             SELECT t.seq, t.payload FROM membership_periods p
               JOIN conversations c ON c.id = p.conversation_id AND c.partition = w.partition AND c.ever_pulled
               JOIN timeline t ON t.conversation_id = p.conversation_id AND t.pulled
                              AND t.seq > GREATEST(w.after, p.joined_seq - 1) AND t.seq <= w.upto
                              AND (p.left_seq IS NULL OR t.seq < p.left_seq)
              WHERE p.user_id = $1 AND (p.left_seq IS NULL OR p.left_seq > w.after) AND ${SEEN_AS_CHANGED}) u
            ORDER BY u.seq LIMIT $3) e ON true
        ORDER BY w.partition, e.seq`,
      [userId, watermarks, limit + 1, this.projection],
    );
    const byPartition = new Map<number, PartitionEvents>();
    for (const r of rows) {
      let p = byPartition.get(r.partition);
      if (!p) {
        p = { partition: r.partition, after: Number(r.after), upto: Number(r.upto), horizon: Number(r.horizon), events: [] };
        byPartition.set(r.partition, p);
      }
      if (r.seq !== null && r.payload !== null) p.events.push({ seq: Number(r.seq), event: r.payload });
    }
    return [...byPartition.values()];
  }

  /**
   * Every conversation of a user with its latest messages, and the checkpoints at the same
   * instant, from one repeatable-read snapshot.
   */
  async snapshot(userId: string, messagesPerConversation: number, maxConversations: number) {
    const { checkpoints, summaries, messages } = await inTransaction(
      this.pool,
      async (client) => {
        const checkpoints = await client.query<{ partition: number; last_seq: string }>(
          'SELECT partition, last_seq FROM checkpoints WHERE projection = $1',
          [this.projection],
        );
        const summaries = await client.query<SummaryRow & { message_count: string }>(
          `${SUMMARY_SELECT.replace('SELECT', 'SELECT c.message_count,')} WHERE m.user_id = $1 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2`,
          [userId, maxConversations],
        );
        const messages = await client.query<{ payload: Message }>(
          `SELECT t.payload FROM members m
             CROSS JOIN LATERAL (
               SELECT payload, seq FROM timeline
                WHERE conversation_id = m.conversation_id AND kind = 'message' AND NOT payload ? 'threadRootSeq'
                ORDER BY seq DESC LIMIT $2) t
            WHERE m.user_id = $1 AND m.conversation_id = ANY($3::text[])
            ORDER BY m.conversation_id, t.seq`,
          [userId, messagesPerConversation, summaries.rows.map((r) => r.id)],
        );
        return { checkpoints, summaries, messages };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
    const watermarks: number[] = [];
    for (const r of checkpoints.rows) watermarks[r.partition] = Number(r.last_seq);
    return {
      watermarks: Array.from(watermarks, (w) => w ?? 0),
      conversations: summaries.rows.map(toSummary),
      /** The hot tier's latest messages of each; older ones may be in the warm or cold tier. */
      messages: messages.rows.map((r) => r.payload),
      messageCounts: new Map(summaries.rows.map((r) => [r.id, Number(r.message_count)])),
    };
  }

  /**
   * Reports to the operators, newest first; `before` = the last one of the previous page.
   * Each names the reported message, which the caller reads from whichever tier holds it.
   */
  async reports(limit: number, before?: { at: string; conversationId: string; seq: number }): Promise<Report[]> {
    const { rows } = await this.pool.query<{ conversation_id: string; seq: string; target_seq: string; reported_by: string; reason: string; reported_at: Date }>(
      `SELECT conversation_id, seq, target_seq, reported_by, reason, reported_at FROM reports
        WHERE $1::timestamptz IS NULL OR (reported_at, conversation_id, seq) < ($1::timestamptz, $2::text, $3::bigint)
        ORDER BY reported_at DESC, conversation_id DESC, seq DESC LIMIT $4`,
      [before?.at ?? null, before?.conversationId ?? '', before?.seq ?? 0, limit],
    );
    return rows.map((r) => ({
      conversationId: r.conversation_id, seq: Number(r.seq), targetSeq: Number(r.target_seq), reportedBy: r.reported_by, reason: r.reason, reportedAt: r.reported_at.toISOString(),
    }));
  }

  /** Every member's read marker, by user id. */
  async receipts(conversationId: string): Promise<Array<{ userId: string; lastReadSeq: number }>> {
    const { rows } = await this.pool.query<{ user_id: string; last_read_seq: string }>(
      'SELECT user_id, last_read_seq FROM members WHERE conversation_id = $1 ORDER BY user_id',
      [conversationId],
    );
    return rows.map((r) => ({ userId: r.user_id, lastReadSeq: Number(r.last_read_seq) }));
  }

  async checkpoints(): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ partition: number; last_seq: string }>(
      'SELECT partition, last_seq FROM checkpoints WHERE projection = $1',
      [this.projection],
    );
    return new Map(rows.map((r) => [r.partition, Number(r.last_seq)]));
  }
}

/**
 * The timeline row `t` is as the user last saw it while a member: never changed, or changed
 * last at a seq before the end of one of the user's membership periods (or the user is a
 * member now). A period ends at the user's removal (`left_seq`), so a change after that
 * belongs to no period. (One primary-key probe, for changed rows only.)
 */
const SEEN_AS_CHANGED = `(t.changed_seq IS NULL OR EXISTS (
  SELECT 1 FROM membership_periods s WHERE s.conversation_id = t.conversation_id AND s.user_id = $1
     AND (s.left_seq IS NULL OR s.left_seq > t.changed_seq)))`;

/**
 * A summary names the members of a small conversation (by join), so that a client can show
 * who is in it; a group's roles (its moderators through members_moderation, its owner while
 * a member), the caller's own mute while it holds, and slow mode.
 */
const SUMMARY_SELECT = `
  SELECT c.id, m.user_id, c.kind, c.title, c.member_count, c.last_seq, m.last_read_seq,
         ${UNREAD} AS unread, ${UNREAD_MENTIONS} AS unread_mentions, c.last_message, c.last_activity_at,
         m.notify_level, CASE WHEN m.mute_until > now() THEN m.mute_until END AS mute_until,
         CASE WHEN c.member_count <= ${SUMMARY_MEMBERS_MAX} THEN (
           SELECT array_agg(o.user_id ORDER BY o.joined_seq, o.user_id) FROM members o WHERE o.conversation_id = c.id) END AS member_ids,
         CASE WHEN c.kind = 'group' THEN (
           SELECT array_agg(o.user_id ORDER BY o.user_id) FROM members o WHERE o.conversation_id = c.id AND o.role <> 'member') END AS moderators,
         CASE WHEN c.kind = 'group' AND EXISTS (SELECT 1 FROM members o WHERE o.conversation_id = c.id AND o.user_id = c.created_by) THEN c.created_by END AS owner,
         c.slow_mode_seconds, m.muted_seq IS NOT NULL AND (m.muted_until IS NULL OR m.muted_until > now()) AS muted, m.muted_until
    FROM members m JOIN conversations c ON c.id = m.conversation_id`;

function toSummary(r: SummaryRow): ConversationSummary {
  const peerId = r.kind === 'direct' ? r.member_ids?.find((u) => u !== r.user_id) : undefined;
  return {
    id: r.id, type: r.kind, memberCount: r.member_count, lastSeq: Number(r.last_seq), lastReadSeq: Number(r.last_read_seq),
    unread: Number(r.unread), unreadMentions: Number(r.unread_mentions), lastActivityAt: r.last_activity_at.toISOString(),
    notify: { level: r.notify_level, ...(r.mute_until !== null && { muteUntil: r.mute_until.toISOString() }) },
    ...(r.title !== null && { title: r.title }),
    ...(r.last_message !== null && { lastMessage: r.last_message }),
    ...(r.member_ids !== null && { members: r.member_ids }),
    ...(peerId !== undefined && { peerId }),
    ...(r.kind === 'group' && { roles: Object.fromEntries([...(r.owner !== null ? [[r.owner, 'owner'] as const] : []), ...(r.moderators ?? []).map((u) => [u, 'moderator'] as const)]) }),
    ...(r.muted && { muted: r.muted_until !== null ? { until: r.muted_until.toISOString() } : {} }),
    ...(r.slow_mode_seconds > 0 && { slowModeSeconds: r.slow_mode_seconds }),
  };
}

export function toConversationInfo(c: Conversation): ConversationInfo {
  return {
    id: c.id, type: c.kind, members: [...c.members], createdBy: c.createdBy, createdAt: c.createdAt, lastSeq: c.lastSeq, roles: rolesOf(c),
    ...(c.title !== undefined && { title: c.title }),
    ...(c.muted && { muted: Object.fromEntries([...c.muted].map(([u, m]) => [u, m.until !== undefined ? { until: m.until } : {}])) }),
    ...(c.slowMode && { slowModeSeconds: c.slowMode.seconds }),
  };
}
