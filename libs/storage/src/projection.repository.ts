import type { Pool, PoolClient } from 'pg';
import type { Conversation } from '@chat/domain';
import type { Message } from '@chat/contracts';
import { inTransaction } from './database';
import { PROJECTION_LOCK } from './projection-schema';
import { clientMsgKey, messageKey, readerKey, type ProjectionWrites } from './projection.rows';

export class CheckpointMovedError extends Error {
  constructor(partition: number, expected: number) {
    super(`checkpoint of partition ${partition} is no longer ${expected}: another projector wrote it`);
  }
}

/** The projector's side of Postgres: load the state it folds, commit a batch atomically. */
export class ProjectionRepository {
  /**
   * `takesSwapLock: false` is for a rebuild writing into its fresh schema: only writers of
   * the live schema wait for a swap.
   */
  constructor(
    private readonly pool: Pool,
    readonly projection = 'timeline',
    private readonly options: { takesSwapLock: boolean } = { takesSwapLock: true },
  ) {}

  /** Makes sure every partition has a checkpoint row, and returns them. */
  async checkpoints(partitions: number[]): Promise<Map<number, number>> {
    await this.pool.query(
      `INSERT INTO checkpoints (projection, partition, last_seq) SELECT $1, p, 0 FROM unnest($2::int[]) p ON CONFLICT DO NOTHING`,
      [this.projection, partitions],
    );
    const { rows } = await this.pool.query<{ partition: number; last_seq: string }>(
      'SELECT partition, last_seq FROM checkpoints WHERE projection = $1',
      [this.projection],
    );
    return new Map(rows.map((r) => [r.partition, Number(r.last_seq)]));
  }

  async loadConversations(ids: string[]): Promise<Map<string, Conversation>> {
    const found = new Map<string, Conversation>();
    if (ids.length === 0) return found;
    const { rows } = await this.pool.query<{
      id: string; kind: 'direct' | 'group'; title: string | null; created_by: string; created_at: Date;
      last_seq: string; message_count: string; members: string[] | null;
    }>(
      `SELECT c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.message_count,
              (SELECT array_agg(m.user_id) FROM members m WHERE m.conversation_id = c.id) AS members
         FROM conversations c WHERE c.id = ANY($1::text[])`,
      [ids],
    );
    for (const r of rows) {
      found.set(r.id, {
        id: r.id, kind: r.kind, createdBy: r.created_by, createdAt: r.created_at.toISOString(),
        members: new Set(r.members ?? []), lastSeq: Number(r.last_seq), messageCount: Number(r.message_count),
        ...(r.title !== null && { title: r.title }),
      });
    }
    return found;
  }

  /** Which of these (sender, clientMsgId) pairs were already projected. */
  async knownClientMsgIds(pairs: Array<{ senderId: string; clientMsgId: string }>): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const { rows } = await this.pool.query<{ sender_id: string; client_msg_id: string }>(
      `SELECT sender_id, client_msg_id FROM client_msg_ids
        WHERE (sender_id, client_msg_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [pairs.map((p) => p.senderId), pairs.map((p) => p.clientMsgId)],
    );
    return new Set(rows.map((r) => clientMsgKey(r.sender_id, r.client_msg_id)));
  }

  /** The stored form of the messages that a batch's edits, deletes and reactions target. */
  async loadMessages(refs: Array<{ conversationId: string; seq: number }>): Promise<Map<string, Message>> {
    if (refs.length === 0) return new Map();
    const { rows } = await this.pool.query<{ conversation_id: string; seq: string; payload: Message }>(
      `SELECT t.conversation_id, t.seq, t.payload FROM timeline t
        WHERE t.kind = 'message' AND (t.conversation_id, t.seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
      [refs.map((r) => r.conversationId), refs.map((r) => r.seq)],
    );
    return new Map(rows.map((r) => [messageKey(r.conversation_id, Number(r.seq)), r.payload]));
  }

  /** Stored read markers of these (conversation, user) pairs. */
  async loadReadMarkers(pairs: Array<{ conversationId: string; userId: string }>): Promise<Map<string, number>> {
    if (pairs.length === 0) return new Map();
    const { rows } = await this.pool.query<{ conversation_id: string; user_id: string; last_read_seq: string }>(
      `SELECT conversation_id, user_id, last_read_seq FROM members
        WHERE (conversation_id, user_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [pairs.map((p) => p.conversationId), pairs.map((p) => p.userId)],
    );
    return new Map(rows.map((r) => [readerKey(r.conversation_id, r.user_id), Number(r.last_read_seq)]));
  }

  /**
   * Sync retention: remembers today's checkpoints, then prunes each partition's inbox up to
   * the newest checkpoint older than `cutoff` and raises its horizon there first, so that a
   * cursor below the horizon gets a snapshot instead of a gap. Returns the new horizons.
   */
  async pruneInbox(now: Date, cutoff: Date): Promise<Map<number, number>> {
    await this.pool.query(
      `INSERT INTO checkpoint_history (partition, seq, at) SELECT partition, last_seq, $2 FROM checkpoints WHERE projection = $1
       ON CONFLICT DO NOTHING`,
      [this.projection, now],
    );
    const { rows } = await this.pool.query<{ partition: number; seq: string; at: Date }>(
      `SELECT DISTINCT ON (h.partition) h.partition, h.seq, h.at FROM checkpoint_history h
        WHERE h.at <= $1 ORDER BY h.partition, h.at DESC`,
      [cutoff],
    );
    const moved = new Map<number, number>();
    for (const r of rows) {
      const horizon = Number(r.seq);
      const raised = await this.pool.query(
        `INSERT INTO sync_horizon (partition, seq) VALUES ($1, $2)
         ON CONFLICT (partition) DO UPDATE SET seq = excluded.seq WHERE sync_horizon.seq < excluded.seq`,
        [r.partition, horizon],
      );
      await this.pool.query('DELETE FROM checkpoint_history WHERE partition = $1 AND at < $2', [r.partition, r.at]);
      if (raised.rowCount === 0) continue;
      // In slices, so that no single statement holds many row locks for long.
      for (;;) {
        const gone = await this.pool.query(
          `DELETE FROM inbox WHERE ctid = ANY(ARRAY(SELECT ctid FROM inbox WHERE partition = $1 AND seq <= $2 LIMIT 5000))`,
          [r.partition, horizon],
        );
        if ((gone.rowCount ?? 0) < 5000) break;
      }
      moved.set(r.partition, horizon);
    }
    return moved;
  }

  /**
   * Writes one batch and moves the checkpoint, in one transaction. Its opening statements
   * go in one round trip (simple protocol, no parameters): a batch's latency is mostly round
   * trips through a busy event loop, not Postgres's work. The shared swap lock: a rebuild
   * swaps the schema between two batches, never during one.
   *
   * The commit waits for the WAL flush (synchronous_commit stays on): the pump acks the
   * batch to JetStream after it, so a commit that a Postgres crash lost would never be
   * delivered again (test/faults/postgres-outage.fault-spec.ts shows it).
   */
  async commit(w: ProjectionWrites): Promise<void> {
    const begin = ['BEGIN', ...(this.options.takesSwapLock ? [`SELECT pg_advisory_xact_lock_shared(${PROJECTION_LOCK})`] : [])];
    await inTransaction(this.pool, (client) => this.write(client, w), begin.join('; '));
  }

  private async write(c: PoolClient, w: ProjectionWrites): Promise<void> {
    const moved = await c.query(
      `UPDATE checkpoints SET last_seq = $3, updated_at = now() WHERE projection = $1 AND partition = $2 AND last_seq <= $4`,
      [this.projection, w.partition, w.toSeq, w.fromSeq],
    );
    if (moved.rowCount !== 1) throw new CheckpointMovedError(w.partition, w.fromSeq);

    if (w.conversations.length) {
      const cs = w.conversations;
      await c.query(
        `INSERT INTO conversations (id, partition, kind, title, created_by, created_at, direct_key, last_seq,
                                    message_count, member_count, last_activity_at, last_message, ever_pulled)
         SELECT id, $1, kind, title, created_by, created_at, direct_key, last_seq, message_count, member_count,
                COALESCE(last_activity_at, created_at), last_message, ever_pulled
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::bigint[],
                       $9::bigint[], $10::int[], $11::timestamptz[], $12::jsonb[], $13::boolean[])
             AS x(id, kind, title, created_by, created_at, direct_key, last_seq, message_count, member_count,
                  last_activity_at, last_message, ever_pulled)
         ON CONFLICT (id) DO UPDATE SET
           ever_pulled = conversations.ever_pulled OR excluded.ever_pulled,
           last_seq = excluded.last_seq, message_count = excluded.message_count,
           member_count = excluded.member_count,
           last_activity_at = GREATEST(conversations.last_activity_at, excluded.last_activity_at),
           last_message = COALESCE(excluded.last_message, conversations.last_message)`,
        [
          w.partition, cs.map((x) => x.id), cs.map((x) => x.kind), cs.map((x) => x.title), cs.map((x) => x.createdBy),
          cs.map((x) => x.createdAt), cs.map((x) => x.directKey), cs.map((x) => x.lastSeq), cs.map((x) => x.messageCount),
          cs.map((x) => x.memberCount), cs.map((x) => x.lastActivityAt ?? null),
          cs.map((x) => (x.lastMessage === undefined ? null : JSON.stringify(x.lastMessage))), cs.map((x) => x.everPulled),
        ],
      );
    }
    if (w.memberDeletes.length) {
      await c.query(
        `DELETE FROM members m USING unnest($1::text[], $2::text[]) AS x(conversation_id, user_id)
          WHERE m.conversation_id = x.conversation_id AND m.user_id = x.user_id`,
        [w.memberDeletes.map((m) => m.conversationId), w.memberDeletes.map((m) => m.userId)],
      );
    }
    if (w.memberInserts.length) {
      await c.query(
        `INSERT INTO members (conversation_id, user_id, joined_seq)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
        [w.memberInserts.map((m) => m.conversationId), w.memberInserts.map((m) => m.userId), w.memberInserts.map((m) => m.joinedSeq)],
      );
    }
    if (w.timeline.length) {
      const t = w.timeline;
      await c.query(
        `INSERT INTO timeline (conversation_id, seq, partition, kind, message_no, target_seq, pulled, payload, at)
         SELECT conversation_id, seq, $1, kind, message_no, target_seq, pulled, payload, at
           FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::boolean[], $8::jsonb[], $9::timestamptz[])
             AS x(conversation_id, seq, kind, message_no, target_seq, pulled, payload, at)
         ON CONFLICT DO NOTHING`,
        [w.partition, t.map((x) => x.conversationId), t.map((x) => x.seq), t.map((x) => x.kind), t.map((x) => x.messageNo),
          t.map((x) => x.targetSeq), t.map((x) => x.pulled), t.map((x) => JSON.stringify(x.payload)), t.map((x) => x.at)],
      );
    }
    if (w.messageUpdates.length) {
      const u = w.messageUpdates;
      const hot = await c.query<{ conversation_id: string; seq: string }>(
        `UPDATE timeline t SET payload = x.payload
           FROM unnest($1::text[], $2::bigint[], $3::jsonb[]) AS x(conversation_id, seq, payload)
          WHERE t.conversation_id = x.conversation_id AND t.seq = x.seq
          RETURNING t.conversation_id, t.seq`,
        [u.map((x) => x.conversationId), u.map((x) => x.seq), u.map((x) => JSON.stringify(x.payload))],
      );
      // The rest are archived: their new form is a patch over the block until the archiver folds it in.
      const inHot = new Set(hot.rows.map((r) => messageKey(r.conversation_id, Number(r.seq))));
      const archived = u.filter((x) => !inHot.has(messageKey(x.conversationId, x.seq)));
      if (archived.length) {
        await c.query(
          `INSERT INTO tier_patches (conversation_id, seq, payload)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::jsonb[])
           ON CONFLICT (conversation_id, seq) DO UPDATE SET payload = excluded.payload`,
          [archived.map((x) => x.conversationId), archived.map((x) => x.seq), archived.map((x) => JSON.stringify(x.payload))],
        );
      }
      await c.query(
        `UPDATE conversations c SET last_message = x.payload
           FROM unnest($1::text[], $2::bigint[], $3::jsonb[]) AS x(conversation_id, seq, payload)
          WHERE c.id = x.conversation_id AND (c.last_message->>'seq')::bigint = x.seq`,
        [u.map((x) => x.conversationId), u.map((x) => x.seq), u.map((x) => JSON.stringify(x.payload))],
      );
    }
    if (w.scrubEdits.length) {
      await c.query(
        `UPDATE timeline t SET payload = jsonb_set(t.payload, '{body}', '""')
           FROM unnest($1::text[], $2::bigint[]) AS x(conversation_id, target_seq)
          WHERE t.conversation_id = x.conversation_id AND t.target_seq = x.target_seq AND t.kind = 'message:edited'`,
        [w.scrubEdits.map((x) => x.conversationId), w.scrubEdits.map((x) => x.targetSeq)],
      );
    }
    if (w.periodCloses.length) {
      const pc = w.periodCloses;
      await c.query(
        `UPDATE membership_periods p SET left_seq = x.left_seq
           FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(conversation_id, user_id, left_seq)
          WHERE p.conversation_id = x.conversation_id AND p.user_id = x.user_id AND p.left_seq IS NULL`,
        [pc.map((x) => x.conversationId), pc.map((x) => x.userId), pc.map((x) => x.leftSeq)],
      );
    }
    if (w.periodInserts.length) {
      const pi = w.periodInserts;
      await c.query(
        `INSERT INTO membership_periods (conversation_id, user_id, joined_seq, left_seq)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING`,
        [pi.map((x) => x.conversationId), pi.map((x) => x.userId), pi.map((x) => x.joinedSeq), pi.map((x) => x.leftSeq)],
      );
    }
    if (w.readMarkers.length) {
      const r = w.readMarkers;
      // Forward only; the dense number of the last message at or below the marker makes
      // unread = message_count - read_count without counting rows.
      await c.query(
        `UPDATE members m SET last_read_seq = x.seq,
                read_count = COALESCE((SELECT t.message_no FROM timeline t
                                        WHERE t.conversation_id = x.conversation_id AND t.kind = 'message' AND t.seq <= x.seq
                                        ORDER BY t.seq DESC LIMIT 1), 0)
           FROM (SELECT conversation_id, user_id, max(seq) AS seq
                   FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(conversation_id, user_id, seq)
                  GROUP BY conversation_id, user_id) AS x
          WHERE m.conversation_id = x.conversation_id AND m.user_id = x.user_id AND m.last_read_seq < x.seq`,
        [r.map((x) => x.conversationId), r.map((x) => x.userId), r.map((x) => x.seq)],
      );
    }
    if (w.clientMsgIds.length) {
      const m = w.clientMsgIds;
      await c.query(
        `INSERT INTO client_msg_ids (sender_id, client_msg_id, conversation_id, seq, sent_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[]) ON CONFLICT DO NOTHING`,
        [m.map((x) => x.senderId), m.map((x) => x.clientMsgId), m.map((x) => x.conversationId), m.map((x) => x.seq), m.map((x) => x.sentAt)],
      );
    }
    if (w.inbox.length) {
      const i = w.inbox;
      await c.query(
        `INSERT INTO inbox (user_id, partition, seq, conversation_id)
         SELECT user_id, $1, seq, conversation_id FROM unnest($2::text[], $3::bigint[], $4::text[]) AS x(user_id, seq, conversation_id)
         ON CONFLICT DO NOTHING`,
        [w.partition, i.map((x) => x.userId), i.map((x) => x.seq), i.map((x) => x.conversationId)],
      );
    }
    if (w.rejected.length) {
      const r = w.rejected;
      await c.query(
        `INSERT INTO rejected_events (partition, seq, conversation_id, code, reason)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
        [w.partition, r.map((x) => x.seq), r.map((x) => x.conversationId), r.map((x) => x.code), r.map((x) => x.reason)],
      );
    }
  }
}

