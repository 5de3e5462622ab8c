import type { Pool } from 'pg';
import type { Message } from '@chat/contracts';
import type { BlobStore } from './blob.store';
import { checksumOf, decodeBlock, encodeBlock } from './block.codec';
import { inTransaction, quoteIdent } from './database';
import { PROJECTION_LOCK } from './projection-schema';

/** Steps of a move at which a test hook may stop the process. */
export type ArchiveStep = 'warm-copied' | 'cold-put' | 'cold-verified' | 'cold-recorded' | 'patch-put';

interface WarmBlock {
  conversation_id: string;
  first_seq: string;
  last_seq: string;
  message_count: number;
  codec: string;
  raw_bytes: number;
  stored_bytes: number;
  checksum: string;
  data: Buffer;
  oldest_at: Date;
  newest_at: Date;
}

const monthName = (d: Date) => `timeline_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
const monthStart = (d: Date, offset = 0) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));

/** `CREATE TABLE` statements of the hot tier's month partitions around `now` (last month to two ahead). */
export function monthPartitionsSql(now: Date): string[] {
  return [-1, 0, 1, 2].map((offset) => {
    const from = monthStart(now, offset);
    const to = monthStart(now, offset + 1);
    return `CREATE TABLE IF NOT EXISTS ${quoteIdent(monthName(from))} PARTITION OF timeline FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`;
  });
}

/**
 * The archiver's storage work. Every move is crash-safe: hot -> warm is one transaction
 * (copy, verify, delete); warm -> cold puts and verifies the object before one transaction
 * records it and deletes the warm block; a crash between steps leaves a copy in the
 * hotter tier, which readers prefer, and at worst an orphan object that `collectOrphans`
 * removes. Readers see every message exactly once throughout.
 */
export class ArchiveRepository {
  constructor(
    private readonly pool: Pool,
    private readonly blobs: BlobStore,
    /** S3 key prefix of this deployment's cold blocks (`<namespace>/timeline/`). */
    private readonly prefix: string,
    private readonly crashAt: (step: ArchiveStep) => void = () => undefined,
  ) {}

  /** Monthly partitions of the hot tier from last month to two months ahead. */
  async ensureMonthPartitions(now: Date): Promise<void> {
    for (const sql of monthPartitionsSql(now)) {
      try {
        await this.pool.query(sql);
      } catch {
        // Rows of that month already sit in the default partition: they stay there, still hot.
      }
    }
  }

  /** Drops month partitions that ended before `before` and hold nothing any more. */
  async dropEmptyMonths(before: Date): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE p.relname = 'timeline' AND n.nspname = current_schema() AND c.relname ~ '^timeline_y[0-9]{4}m[0-9]{2}$'`,
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const [, y, m] = /^timeline_y(\d{4})m(\d{2})$/.exec(name)!;
      if (monthStart(new Date(Date.UTC(Number(y), Number(m) - 1, 1)), 1) > before) continue;
      await inTransaction(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
        const any = await c.query(`SELECT 1 FROM ${quoteIdent(name)} LIMIT 1`);
        if (any.rowCount) return;
        await c.query(`ALTER TABLE timeline DETACH PARTITION ${quoteIdent(name)}`);
        await c.query(`DROP TABLE ${quoteIdent(name)}`);
        dropped.push(name);
      });
    }
    return dropped;
  }

  /**
   * Events other than messages are needed by sync only; past the sync retention (and the
   * hot age) they go, so that old months empty out.
   */
  async dropOldChangeEvents(cutoff: Date): Promise<number> {
    const gone = await this.pool.query(
      `DELETE FROM timeline WHERE ctid = ANY(ARRAY(SELECT ctid FROM timeline WHERE kind <> 'message' AND at < $1 LIMIT 10000))`,
      [cutoff],
    );
    return gone.rowCount ?? 0;
  }

  /** Moves messages older than `cutoff` into warm blocks; returns how many moved. */
  async hotToWarm(cutoff: Date, blockSize: number): Promise<number> {
    const { rows: conversations } = await this.pool.query<{ conversation_id: string }>(
      `SELECT DISTINCT conversation_id FROM timeline WHERE kind = 'message' AND at < $1 LIMIT 500`,
      [cutoff],
    );
    let moved = 0;
    for (const { conversation_id: id } of conversations) {
      for (;;) {
        const n = await inTransaction(this.pool, async (c) => {
          // Between two projector batches: an edit never targets a row half-moved.
          await c.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
          const { rows } = await c.query<{ seq: string; payload: Message; at: Date; partition: number }>(
            `SELECT seq, payload, at, partition FROM timeline WHERE conversation_id = $1 AND kind = 'message' AND at < $2 ORDER BY seq LIMIT $3`,
            [id, cutoff, blockSize],
          );
          if (rows.length === 0) return 0;
          const messages = rows.map((r) => r.payload);
          const block = encodeBlock(messages);
          // Verify the copy before the source goes: it must read back to the same messages.
          if (JSON.stringify(decodeBlock(block.data, block.codec, block.checksum, 'new warm block')) !== JSON.stringify(messages)) {
            throw new Error(`warm block of ${id} did not read back identical`);
          }
          const ats = rows.map((r) => r.at.getTime());
          await c.query(
            `INSERT INTO warm_blocks (conversation_id, first_seq, last_seq, message_count, codec, raw_bytes, stored_bytes, checksum, data, oldest_at, newest_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
            [id, rows[0]!.seq, rows[rows.length - 1]!.seq, rows.length, block.codec, block.rawBytes, block.data.length, block.checksum, block.data,
              new Date(Math.min(...ats)), new Date(Math.max(...ats))],
          );
          this.crashAt('warm-copied');
          await c.query(`DELETE FROM timeline WHERE conversation_id = $1 AND kind = 'message' AND seq = ANY($2::bigint[])`, [id, rows.map((r) => r.seq)]);
          // Sync cursors below the moved seqs would read inbox rows whose messages left the
          // hot tier: they get a snapshot instead (reset), never a gap.
          await c.query(
            `INSERT INTO sync_horizon (partition, seq) VALUES ($1, $2) ON CONFLICT (partition) DO UPDATE SET seq = GREATEST(sync_horizon.seq, excluded.seq)`,
            [rows[0]!.partition, rows[rows.length - 1]!.seq],
          );
          return rows.length;
        });
        moved += n;
        if (n < blockSize) break;
      }
    }
    return moved;
  }

  /** Moves warm blocks whose newest message is older than `cutoff` to S3; returns how many blocks. */
  async warmToCold(cutoff: Date): Promise<number> {
    const { rows } = await this.pool.query<WarmBlock>('SELECT * FROM warm_blocks WHERE newest_at < $1 ORDER BY newest_at LIMIT 200', [cutoff]);
    for (const b of rows) {
      const key = `${this.prefix}${b.conversation_id}/${b.first_seq}-${b.last_seq}-${b.checksum.slice(0, 16)}.br`;
      await this.blobs.put(key, b.data);
      this.crashAt('cold-put');
      if (checksumOf(await this.blobs.get(key)) !== b.checksum) throw new Error(`cold object ${key} did not read back with its checksum`);
      this.crashAt('cold-verified');
      await inTransaction(this.pool, async (c) => {
        await c.query(
          `INSERT INTO cold_manifest (conversation_id, first_seq, last_seq, message_count, key, codec, raw_bytes, stored_bytes, checksum, oldest_at, newest_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (conversation_id, first_seq) DO NOTHING`,
          [b.conversation_id, b.first_seq, b.last_seq, b.message_count, key, b.codec, b.raw_bytes, b.stored_bytes, b.checksum, b.oldest_at, b.newest_at],
        );
        await c.query('DELETE FROM warm_blocks WHERE conversation_id = $1 AND first_seq = $2', [b.conversation_id, b.first_seq]);
      });
      this.crashAt('cold-recorded');
    }
    return rows.length;
  }

  /**
   * Rewrites blocks that have patches (edits, deletes, reactions made after they were
   * archived), so that a deleted body leaves the warm tier and S3 for good. Returns how
   * many blocks were rewritten.
   */
  async foldPatches(): Promise<number> {
    let rewritten = 0;
    const warm = await this.pool.query<{ conversation_id: string; first_seq: string }>(
      `SELECT DISTINCT b.conversation_id, b.first_seq FROM warm_blocks b
         JOIN tier_patches p ON p.conversation_id = b.conversation_id AND p.seq BETWEEN b.first_seq AND b.last_seq LIMIT 200`,
    );
    for (const w of warm.rows) {
      await inTransaction(this.pool, async (c) => {
        const { rows } = await c.query<WarmBlock>('SELECT * FROM warm_blocks WHERE conversation_id = $1 AND first_seq = $2 FOR UPDATE', [w.conversation_id, w.first_seq]);
        const b = rows[0];
        if (!b) return;
        const patches = await c.query<{ seq: string; payload: Message }>(
          'SELECT seq, payload FROM tier_patches WHERE conversation_id = $1 AND seq BETWEEN $2 AND $3 FOR UPDATE',
          [b.conversation_id, b.first_seq, b.last_seq],
        );
        const block = encodeBlock(applyPatches(decodeBlock(b.data, b.codec, b.checksum, `warm ${b.conversation_id}@${b.first_seq}`), patches.rows));
        await c.query('UPDATE warm_blocks SET data = $3, checksum = $4, raw_bytes = $5, stored_bytes = $6 WHERE conversation_id = $1 AND first_seq = $2', [
          b.conversation_id, b.first_seq, block.data, block.checksum, block.rawBytes, block.data.length,
        ]);
        await c.query('DELETE FROM tier_patches WHERE conversation_id = $1 AND seq = ANY($2::bigint[])', [b.conversation_id, patches.rows.map((p) => p.seq)]);
      });
      rewritten++;
    }
    const cold = await this.pool.query<{ conversation_id: string; first_seq: string; last_seq: string; key: string; codec: string; checksum: string }>(
      `SELECT DISTINCT m.conversation_id, m.first_seq, m.last_seq, m.key, m.codec, m.checksum FROM cold_manifest m
         JOIN tier_patches p ON p.conversation_id = m.conversation_id AND p.seq BETWEEN m.first_seq AND m.last_seq LIMIT 200`,
    );
    for (const m of cold.rows) {
      const patches = await this.pool.query<{ seq: string; payload: Message }>(
        'SELECT seq, payload FROM tier_patches WHERE conversation_id = $1 AND seq BETWEEN $2 AND $3',
        [m.conversation_id, m.first_seq, m.last_seq],
      );
      const messages = applyPatches(decodeBlock(await this.blobs.get(m.key), m.codec, m.checksum, `cold ${m.key}`), patches.rows);
      const block = encodeBlock(messages);
      const key = `${this.prefix}${m.conversation_id}/${m.first_seq}-${m.last_seq}-${block.checksum.slice(0, 16)}.br`;
      await this.blobs.put(key, block.data);
      if (checksumOf(await this.blobs.get(key)) !== block.checksum) throw new Error(`cold object ${key} did not read back with its checksum`);
      this.crashAt('patch-put');
      await inTransaction(this.pool, async (c) => {
        await c.query('UPDATE cold_manifest SET key = $3, checksum = $4, raw_bytes = $5, stored_bytes = $6 WHERE conversation_id = $1 AND first_seq = $2', [
          m.conversation_id, m.first_seq, key, block.checksum, block.rawBytes, block.data.length,
        ]);
        // Only the patches folded in: one written meanwhile stays and is folded next time.
        await c.query(
          `DELETE FROM tier_patches t USING unnest($2::bigint[], $3::jsonb[]) AS x(seq, payload)
            WHERE t.conversation_id = $1 AND t.seq = x.seq AND t.payload = x.payload`,
          [m.conversation_id, patches.rows.map((p) => p.seq), patches.rows.map((p) => JSON.stringify(p.payload))],
        );
      });
      if (key !== m.key) await this.blobs.delete(m.key);
      rewritten++;
    }
    return rewritten;
  }

  /** Deletes objects under the prefix that no manifest row names (left by a crash), once old enough. */
  async collectOrphans(olderThan: Date): Promise<number> {
    const { rows } = await this.pool.query<{ key: string }>('SELECT key FROM cold_manifest');
    const live = new Set(rows.map((r) => r.key));
    let removed = 0;
    for await (const o of this.blobs.list(this.prefix)) {
      if (!live.has(o.key) && o.lastModified < olderThan) {
        await this.blobs.delete(o.key);
        removed++;
      }
    }
    return removed;
  }

  /** Messages and bytes per tier, oldest and newest; and the damaged blocks found so far. */
  async stats() {
    const hot = await this.pool.query<{ messages: string; bytes: string | null; oldest: Date | null; newest: Date | null }>(
      `SELECT count(*) AS messages, sum(pg_column_size(payload)) AS bytes, min(at) AS oldest, max(at) AS newest FROM timeline WHERE kind = 'message'`,
    );
    const blocks = await this.pool.query<{ tier: string; blocks: string; messages: string | null; bytes: string | null; raw: string | null; oldest: Date | null; newest: Date | null }>(
      `SELECT 'warm' AS tier, count(*) AS blocks, sum(message_count) AS messages, sum(stored_bytes) AS bytes, sum(raw_bytes) AS raw, min(oldest_at) AS oldest, max(newest_at) AS newest FROM warm_blocks
       UNION ALL
       SELECT 'cold', count(*), sum(message_count), sum(stored_bytes), sum(raw_bytes), min(oldest_at), max(newest_at) FROM cold_manifest`,
    );
    const damaged = await this.pool.query<{ tier: string; conversation_id: string; first_seq: string; reason: string; detected_at: Date }>(
      'SELECT * FROM damaged_blocks ORDER BY detected_at',
    );
    const h = hot.rows[0]!;
    const tier = (name: string, messages: number, bytes: number, oldest: Date | null, newest: Date | null, extra: object = {}) => ({
      tier: name, messages, bytes, ...extra, ...(oldest && { oldest: oldest.toISOString() }), ...(newest && { newest: newest.toISOString() }),
    });
    return {
      tiers: [
        tier('hot', Number(h.messages), Number(h.bytes ?? 0), h.oldest, h.newest),
        ...blocks.rows.map((b) => tier(b.tier, Number(b.messages ?? 0), Number(b.bytes ?? 0), b.oldest, b.newest, { blocks: Number(b.blocks), rawBytes: Number(b.raw ?? 0) })),
      ],
      damaged: damaged.rows.map((d) => ({ tier: d.tier, conversationId: d.conversation_id, firstSeq: Number(d.first_seq), reason: d.reason, detectedAt: d.detected_at.toISOString() })),
    };
  }
}

function applyPatches(messages: Message[], patches: Array<{ seq: string; payload: Message }>): Message[] {
  const bySeq = new Map(patches.map((p) => [Number(p.seq), p.payload]));
  return messages.map((m) => bySeq.get(m.seq) ?? m);
}
