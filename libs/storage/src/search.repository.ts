import type { Pool } from 'pg';
import { searchPosition, type SearchPosition } from '@chat/contracts';
import { GroupCommit } from './group.commit';
import { decodeOpaque, encodeOpaque } from './opaque.cursor';
import { CheckpointMovedError } from './projection.repository';
import { SEARCH, SEARCH_PROJECTION_LOCK } from './projection-schema';

/** What one batch of one partition writes to the search index (deploy/projections/search.sql). */
export interface SearchWrites {
  partition: number;
  fromSeq: number;
  toSeq: number;
  /**
   * Messages the batch sent, with their text as the batch leaves it (later edits of the
   * batch folded in) and the seq of the batch's last change of them (edit or reaction).
   */
  inserts: Array<{ conversationId: string; seq: number; at: string; body: string; changedSeq?: number }>;
  /** Messages stored before the batch that it changed: their last text (absent: only reactions) and last change. */
  edits: Array<{ conversationId: string; seq: number; body?: string; changedSeq: number }>;
  /** Messages the batch deleted (stored before it or not). */
  deletes: Array<{ conversationId: string; seq: number }>;
}

const COMMIT_INTERVAL_MS = 5;

/** The search projector's side of Postgres: checkpoints and batch commits, in its own schema. */
export class SearchProjectionRepository {
  /** `pool`: search_path = the schema written (`search`, or a rebuild's fresh copy). */
  constructor(
    private readonly pool: Pool,
    private readonly options: { takesSwapLock: boolean } = { takesSwapLock: true },
  ) {}

  readonly projection = SEARCH;

  async checkpoints(partitions: number[]): Promise<Map<number, number>> {
    await this.pool.query(
      `INSERT INTO checkpoints (projection, partition, last_seq) SELECT $1, p, 0 FROM unnest($2::int[]) p ON CONFLICT DO NOTHING`,
      [SEARCH, partitions],
    );
    const { rows } = await this.pool.query<{ partition: number; last_seq: string }>('SELECT partition, last_seq FROM checkpoints WHERE projection = $1', [SEARCH]);
    return new Map(rows.map((r) => [r.partition, Number(r.last_seq)]));
  }

  /** One statement per group of batches waiting together, as the timeline commits (GroupCommit). */
  commit(w: SearchWrites): Promise<void> {
    return this.group.commit(w);
  }

  private readonly group = new GroupCommit<SearchWrites>(
    (all) => this.pool.query('SELECT search_commit_batches($1::jsonb)', [`[${all.map((w) => this.document(w)).join(',')}]`]).then(() => undefined),
    async (w) => {
      try {
        await this.pool.query('SELECT search_commit_batch($1::jsonb)', [this.document(w)]);
      } catch (err) {
        if ((err as { code?: string }).code === 'CK001') throw new CheckpointMovedError(w.partition, w.fromSeq);
        throw err;
      }
    },
    COMMIT_INTERVAL_MS,
  );

  private document(w: SearchWrites): string {
    const named = Object.fromEntries(Object.entries(w).filter(([, v]) => !Array.isArray(v) || v.length > 0));
    return JSON.stringify({ projection: SEARCH, ...(this.options.takesSwapLock && { swapLock: SEARCH_PROJECTION_LOCK }), ...named });
  }
}

/**
 * The timeline's verdicts on a batch, which the search projection follows rather than
 * deciding the rules a second time: which sends were projected as messages (a send the
 * rules refused is not in client_msg_ids; a copy of a send in the log maps to its first
 * seq), and which other events were refused. `pool`: search_path = timeline.
 */
export async function timelineVerdicts(
  pool: Pool,
  partition: number,
  range: { fromSeq: number; toSeq: number },
  sends: Array<{ senderId: string; clientMsgId: string; seq: number }>,
): Promise<{ accepted: Set<number>; refused: Set<number> }> {
  const [projected, refused] = await Promise.all([
    sends.length === 0
      ? Promise.resolve({ rows: [] as Array<{ seq: string }> })
      : pool.query<{ seq: string }>(
          `SELECT c.seq FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(sender_id, client_msg_id, seq)
             JOIN client_msg_ids c ON c.sender_id = x.sender_id AND c.client_msg_id = x.client_msg_id AND c.seq = x.seq`,
          [sends.map((s) => s.senderId), sends.map((s) => s.clientMsgId), sends.map((s) => s.seq)],
        ),
    pool.query<{ seq: string }>('SELECT seq FROM rejected_events WHERE partition = $1 AND seq > $2 AND seq <= $3', [partition, range.fromSeq, range.toSeq]),
  ]);
  return { accepted: new Set(projected.rows.map((r) => Number(r.seq))), refused: new Set(refused.rows.map((r) => Number(r.seq))) };
}

/** Up to this many messages in a user's conversations, a search checks them all rather than the GIN index (SearchQueries.find). */
export const SEARCH_SCAN_MAX = 100_000;

export interface SearchHitRef {
  conversationId: string;
  seq: number;
  at: string;
}

/** The `next`/`before` of `search`: base64url JSON `[at, conversationId, seq]`. */
export function encodeSearchCursor(p: SearchPosition): string {
  return encodeOpaque([p.at, p.conversationId, p.seq]);
}

export function decodeSearchCursor(text: string): SearchPosition | undefined {
  const raw = decodeOpaque(text);
  if (!Array.isArray(raw) || raw.length !== 3) return undefined;
  const parsed = searchPosition.safeParse({ at: raw[0], conversationId: raw[1], seq: raw[2] });
  return parsed.success ? parsed.data : undefined;
}

/**
 * Full-text search over the index, restricted to what a user may read: a message matches
 * only inside one of the user's membership periods of its conversation (joined at or
 * before it, not left before it), so nothing from before a join or after a leave; and a
 * message changed after the user left is not found unless it is a member again (the rule
 * sync applies to changed rows: the user never reads what happened after it left). Reads
 * `search.messages` beside the timeline's membership_periods (`pool`: search_path =
 * timeline, the read model every query uses).
 */
export class SearchQueries {
  constructor(private readonly pool: Pool) {}

  /**
   * What a search needs to know before it runs, in one round trip: whether
   * websearch_to_tsquery leaves no word to look up in the index (nothing at all: `""`,
   * punctuation; or only words to exclude: `-or`, which `"" - or` reduces to; querytree()
   * is 'T' for a query the index cannot answer, which would read every row); whether the
   * user was ever a member of `conversationId`; and how many messages the user's
   * conversations hold (their dense counters), which decides how `find` reads.
   */
  async plan(userId: string, text: string, conversationId?: string): Promise<{ empty: boolean; member: boolean; readable: number }> {
    const { rows } = await this.pool.query<{ empty: boolean; member: boolean; readable: string }>(
      `SELECT numnode(q) = 0 OR querytree(q) = 'T' AS empty,
              ($3::text IS NULL OR EXISTS (SELECT 1 FROM membership_periods WHERE conversation_id = $3 AND user_id = $2)) AS member,
              (SELECT COALESCE(sum(c.message_count), 0) FROM (SELECT DISTINCT conversation_id FROM membership_periods
                  WHERE user_id = $2 AND ($3::text IS NULL OR conversation_id = $3)) p
                 JOIN conversations c ON c.id = p.conversation_id) AS readable
         FROM websearch_to_tsquery('simple', $1) AS q`,
      [text, userId, conversationId ?? null],
    );
    const r = rows[0]!;
    return { empty: r.empty, member: r.member, readable: Number(r.readable) };
  }

  /** How far the index has committed each partition. */
  async checkpoints(): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ partition: number; last_seq: string }>(`SELECT partition, last_seq FROM ${SEARCH}.checkpoints WHERE projection = $1`, [SEARCH]);
    return new Map(rows.map((r) => [r.partition, Number(r.last_seq)]));
  }

  /** How far the index has committed a partition (the search watch's fallback to its notices). */
  async checkpoint(partition: number): Promise<number> {
    const { rows } = await this.pool.query<{ last_seq: string }>(`SELECT last_seq FROM ${SEARCH}.checkpoints WHERE projection = $1 AND partition = $2`, [SEARCH, partition]);
    return Number(rows[0]?.last_seq ?? 0);
  }

  /**
   * Hits newest first (time, then conversation and seq), strictly after `before` in that
   * order. `scan` (a user whose conversations hold at most SEARCH_SCAN_MAX messages): the
   * words are checked on the user's own messages, read by primary key from its periods,
   * and the GIN index is not used; otherwise the planner may use it. Measured at a million
   * messages (docs/benchmarks.md): left to itself, the planner intersected the GIN entries
   * of a phrase of common words with each period's rows, once per period (seconds for a
   * user in 200 conversations), where checking the user's 20,000 messages took 20-50 ms.
   */
  async find(userId: string, text: string, opts: { conversationId?: string; before?: SearchPosition; limit: number; scan?: boolean }): Promise<SearchHitRef[]> {
    // ts_match_vq is the function behind @@: the same match, which no index answers.
    const match = opts.scan ? `ts_match_vq(s.tsv, websearch_to_tsquery('simple', $2))` : `s.tsv @@ websearch_to_tsquery('simple', $2)`;
    const { rows } = await this.pool.query<{ conversation_id: string; seq: string; sent_at: Date }>(
      `SELECT s.conversation_id, s.seq, s.sent_at
         FROM ${SEARCH}.messages s
         JOIN membership_periods p ON p.conversation_id = s.conversation_id AND p.user_id = $1
                                  AND s.seq >= p.joined_seq AND (p.left_seq IS NULL OR s.seq < p.left_seq)
        WHERE ${match}
          AND (s.changed_seq IS NULL OR EXISTS (
                SELECT 1 FROM membership_periods q WHERE q.conversation_id = s.conversation_id AND q.user_id = $1
                   AND (q.left_seq IS NULL OR q.left_seq > s.changed_seq)))
          AND ($3::text IS NULL OR s.conversation_id = $3)
          AND ($4::timestamptz IS NULL OR (s.sent_at, s.conversation_id, s.seq) < ($4::timestamptz, $5::text, $6::bigint))
        ORDER BY s.sent_at DESC, s.conversation_id DESC, s.seq DESC
        LIMIT $7`,
      [userId, text, opts.conversationId ?? null, opts.before?.at ?? null, opts.before?.conversationId ?? null, opts.before?.seq ?? null, opts.limit],
    );
    return rows.map((r) => ({ conversationId: r.conversation_id, seq: Number(r.seq), at: r.sent_at.toISOString() }));
  }
}
