import type { Pool } from 'pg';
import { DEPARTED_KEPT, type Conversation } from '@chat/domain';
import type { Message } from '@chat/contracts';
import { GroupCommit } from './group.commit';
import { LAST_SENDS_COLUMN, MODERATION_COLUMNS, moderationOf, type ModerationRow } from './moderation.state';
import { PROJECTION_LOCK } from './projection-schema';
import { messageKey, readerKey, type ProjectionWrites } from './projection.rows';

/**
 * Commit statements start at most this often: under load, what arrives meanwhile joins the
 * next statement (a batch of one event costs Postgres about four times as much per event
 * as a batch of ten); after a quiet spell an event goes at once.
 */
const COMMIT_INTERVAL_MS = 5;

export class CheckpointMovedError extends Error {
  constructor(partition: number, expected: number) {
    super(`checkpoint of partition ${partition} is no longer ${expected}: another projector wrote it`);
  }
}

/** Sends of a batch that were projected before (copies in the log): fold the batch again, knowing them. */
export class SendsProjectedBeforeError extends Error {
  constructor(readonly pairs: Array<[senderId: string, clientMsgId: string]>) {
    super(`${pairs.length} send(s) of the batch were projected before`);
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
    const { rows } = await this.pool.query<ModerationRow & {
      id: string; kind: 'direct' | 'group'; title: string | null; created_by: string; created_at: Date;
      last_seq: string; message_count: string; members: string[] | null; departed: Record<string, string> | null;
    }>(
      // The latest removals (of users not back since) are what a concurrent send is judged
      // by; a send decided before older removals than these is refused as before.
      `SELECT c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.message_count,
              (SELECT array_agg(m.user_id) FROM members m WHERE m.conversation_id = c.id) AS members,
              (SELECT jsonb_object_agg(d.user_id, d.left_seq) FROM (
                 SELECT p.user_id, max(p.left_seq) AS left_seq FROM membership_periods p
                  WHERE p.conversation_id = c.id AND p.left_seq IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM members m WHERE m.conversation_id = c.id AND m.user_id = p.user_id)
                  GROUP BY p.user_id ORDER BY 2 DESC LIMIT ${DEPARTED_KEPT}) d) AS departed,
              ${MODERATION_COLUMNS}, ${LAST_SENDS_COLUMN}
         FROM conversations c WHERE c.id = ANY($1::text[])`,
      [ids],
    );
    for (const r of rows) {
      found.set(r.id, {
        id: r.id, kind: r.kind, createdBy: r.created_by, createdAt: r.created_at.toISOString(),
        members: new Set(r.members ?? []), lastSeq: Number(r.last_seq), messageCount: Number(r.message_count),
        ...(r.title !== null && { title: r.title }),
        // Oldest first, as the rules keep them (jsonb orders keys by their text).
        ...(r.departed && { departed: new Map(Object.entries(r.departed).map(([u, seq]) => [u, Number(seq)] as const).sort((a, b) => a[1] - b[1])) }),
        ...moderationOf(r),
      });
    }
    return found;
  }

  /** The stored form of the messages that a batch's edits, deletes and reactions target. */
  async loadMessages(refs: Array<{ conversationId: string; seq: number }>): Promise<Map<string, Message>> {
    if (refs.length === 0) return new Map();
    const { rows } = await this.pool.query<{ conversation_id: string; seq: string; payload: Message }>(
      // LATERAL ... OFFSET 0: one index probe per pair, never a hash join over the table.
      `SELECT t.conversation_id, t.seq, t.payload FROM unnest($1::text[], $2::bigint[]) AS x(conversation_id, seq)
        CROSS JOIN LATERAL (SELECT * FROM timeline t WHERE t.conversation_id = x.conversation_id AND t.seq = x.seq AND t.kind = 'message' OFFSET 0) t`,
      [refs.map((r) => r.conversationId), refs.map((r) => r.seq)],
    );
    return new Map(rows.map((r) => [messageKey(r.conversation_id, Number(r.seq)), r.payload]));
  }

  /** Stored read markers of these (conversation, user) pairs. */
  async loadReadMarkers(pairs: Array<{ conversationId: string; userId: string }>): Promise<Map<string, number>> {
    if (pairs.length === 0) return new Map();
    const { rows } = await this.pool.query<{ conversation_id: string; user_id: string; last_read_seq: string }>(
      `SELECT m.conversation_id, m.user_id, m.last_read_seq FROM unnest($1::text[], $2::text[]) AS x(conversation_id, user_id)
        CROSS JOIN LATERAL (SELECT * FROM members m WHERE m.conversation_id = x.conversation_id AND m.user_id = x.user_id OFFSET 0) m`,
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
   * Writes one batch and moves the checkpoint in one statement, `commit_batch` in
   * deploy/projections/timeline.sql: one round trip, its own transaction; the batches of
   * other partitions waiting at the same time go in the same statement (`commit_batches`,
   * GroupCommit). A batch's latency was mostly round trips through a busy event loop, not
   * Postgres's work.
   *
   * The commit waits for the WAL flush (synchronous_commit stays on): the pump acks the
   * batch to JetStream after it, so a commit that a Postgres crash lost would never be
   * delivered again (test/faults/postgres-outage.fault-spec.ts shows it).
   */
  async commit(w: ProjectionWrites): Promise<void> {
    await this.group.commit(w);
  }

  private readonly group = new GroupCommit<ProjectionWrites>(
    (all) => this.pool.query('SELECT commit_batches($1::jsonb)', [`[${all.map((w) => this.document(w)).join(',')}]`]).then(() => undefined),
    (w) => this.commitOne(w),
    COMMIT_INTERVAL_MS,
  );

  private async commitOne(w: ProjectionWrites): Promise<void> {
    try {
      await this.pool.query('SELECT commit_batch($1::jsonb)', [this.document(w)]);
    } catch (err) {
      const { code, detail } = err as { code?: string; detail?: string };
      if (code === 'CK001') throw new CheckpointMovedError(w.partition, w.fromSeq);
      if (code === 'CK002') throw new SendsProjectedBeforeError(JSON.parse(detail ?? '[]') as Array<[string, string]>);
      throw err;
    }
  }

  /** A batch as commit_batch reads it; empty lists are left out (it skips what the document does not name). */
  private document(w: ProjectionWrites): string {
    const named = Object.fromEntries(Object.entries(w).filter(([, v]) => !Array.isArray(v) || v.length > 0));
    return JSON.stringify({ projection: this.projection, ...(this.options.takesSwapLock && { swapLock: PROJECTION_LOCK }), ...named });
  }
}
