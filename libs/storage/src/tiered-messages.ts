import type { Pool } from 'pg';
import type { Message } from '@chat/contracts';
import type { BlobStore } from './blob.store';
import { CorruptBlockError, decodeBlock } from './block.codec';

export type Tier = 'hot' | 'warm' | 'cold';

interface BlockRow {
  tier: 'warm' | 'cold';
  first_seq: string;
  last_seq: string;
  codec: string;
  checksum: string;
  key: string | null;
}

const CACHE_BLOCKS = 256;

/**
 * A conversation's messages by seq, whichever tier holds them: hot rows in Postgres, warm
 * blocks in Postgres, cold blocks in S3, with the patches (later edits, deletes,
 * reactions) of archived messages laid over them. A message present in two tiers (a move
 * under way) is read once, from the hotter one. A block whose checksum does not match is
 * recorded as damaged and its page refused, never served.
 */
/** Which messages a page holds: all, the main timeline (no thread replies), or one thread's replies. */
export type MessageFilter = 'all' | 'main' | { threadRootSeq: number };

export class TieredMessages {
  private readonly cache = new Map<string, Message[]>();

  constructor(
    private readonly pool: Pool,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Messages with afterSeq < seq < beforeSeq: the newest `limit` (order `desc`, as history
   * pages back) or the oldest (`asc`), returned ascending, and whether there are more.
   */
  async page(
    conversationId: string, range: { afterSeq?: number; beforeSeq?: number }, limit: number, order: 'asc' | 'desc', which: MessageFilter = 'all',
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    // A block the archiver moved on between listing and reading: list again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pageOnce(conversationId, range, limit, order, which);
      } catch (err) {
        if (!(err instanceof BlockMovedError) || attempt === 3) throw err;
      }
    }
  }

  private async pageOnce(
    conversationId: string, range: { afterSeq?: number; beforeSeq?: number }, limit: number, order: 'asc' | 'desc', which: MessageFilter,
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    const thread = typeof which === 'object' ? which.threadRootSeq : undefined;
    // A thread's replies all come after its root: no block before it is read.
    const after = Math.max(range.afterSeq ?? 0, thread ?? 0);
    const before = range.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const kept = (m: Message) => (which === 'all' ? true : which === 'main' ? m.threadRootSeq === undefined : m.threadRootSeq === thread);
    // A thread's filter is timeline_replies's predicate; the main timeline's skips replies in timeline_messages.
    const where = which === 'all' ? '' : which === 'main' ? ` AND NOT payload ? 'threadRootSeq'` : ` AND payload ? 'threadRootSeq' AND (payload->>'threadRootSeq')::bigint = $5`;
    const hot = await this.pool.query<{ payload: Message }>(
      `SELECT payload FROM timeline WHERE conversation_id = $1 AND kind = 'message'${where} AND seq > $2 AND seq < $3 ORDER BY seq ${dir} LIMIT $4`,
      [conversationId, after, before, limit + 1, ...(thread !== undefined ? [thread] : [])],
    );
    const found = new Map<number, Message>(hot.rows.map((r) => [r.payload.seq, r.payload]));
    const blocks = await this.pool.query<BlockRow>(
      `SELECT 'warm' AS tier, first_seq, last_seq, codec, checksum, NULL AS key FROM warm_blocks
        WHERE conversation_id = $1 AND last_seq > $2 AND first_seq < $3
       UNION ALL
       SELECT 'cold', first_seq, last_seq, codec, checksum, key FROM cold_manifest
        WHERE conversation_id = $1 AND last_seq > $2 AND first_seq < $3
       ORDER BY ${order === 'desc' ? 'last_seq DESC' : 'first_seq ASC'}`,
      [conversationId, after, before],
    );
    for (const block of blocks.rows) {
      // Enough already, and this block holds nothing nearer than the page's far end: done.
      if (found.size > limit) {
        const seqs = [...found.keys()].sort((a, b) => (order === 'desc' ? b - a : a - b));
        const edge = seqs[limit]!;
        if (order === 'desc' ? Number(block.last_seq) < edge : Number(block.first_seq) > edge) break;
      }
      for (const m of await this.read(conversationId, block)) {
        if (m.seq > after && m.seq < before && kept(m) && !found.has(m.seq)) found.set(m.seq, m);
      }
    }
    const sorted = [...found.values()].sort((a, b) => (order === 'desc' ? b.seq - a.seq : a.seq - b.seq));
    const messages = sorted.slice(0, limit);
    if (order === 'desc') messages.reverse();
    return { messages: await this.patched(conversationId, messages, new Set(hot.rows.map((r) => r.payload.seq))), hasMore: sorted.length > limit };
  }

  /** Messages at these seqs of one conversation, from whichever tier holds them. */
  async at(conversationId: string, seqs: number[]): Promise<Map<number, Message>> {
    const found = new Map<number, Message>();
    for (const seq of seqs) {
      const { messages } = await this.page(conversationId, { afterSeq: seq - 1, beforeSeq: seq + 1 }, 1, 'asc');
      if (messages[0]) found.set(seq, messages[0]);
    }
    return found;
  }

  /**
   * Messages of several conversations by (conversation, seq), whichever tier holds them:
   * the hot ones in one query, the rest (archived) through their blocks.
   */
  async many(refs: Array<{ conversationId: string; seq: number }>): Promise<Map<string, Message>> {
    const found = new Map<string, Message>();
    if (refs.length === 0) return found;
    const { rows } = await this.pool.query<{ payload: Message }>(
      // LATERAL ... OFFSET 0: one index probe per pair, never a scan of the month partitions.
      `SELECT t.payload FROM unnest($1::text[], $2::bigint[]) AS x(conversation_id, seq)
        CROSS JOIN LATERAL (SELECT payload FROM timeline t WHERE t.conversation_id = x.conversation_id AND t.seq = x.seq AND t.kind = 'message' OFFSET 0) t`,
      [refs.map((r) => r.conversationId), refs.map((r) => r.seq)],
    );
    for (const { payload } of rows) found.set(`${payload.conversationId}\n${payload.seq}`, payload);
    for (const r of refs) {
      const key = `${r.conversationId}\n${r.seq}`;
      if (found.has(key)) continue;
      const archived = (await this.at(r.conversationId, [r.seq])).get(r.seq);
      if (archived) found.set(key, archived);
    }
    return found;
  }

  /** Archived messages get their patches (newer than the block) laid over them. */
  private async patched(conversationId: string, messages: Message[], hot: Set<number>): Promise<Message[]> {
    const archived = messages.filter((m) => !hot.has(m.seq)).map((m) => m.seq);
    if (archived.length === 0) return messages;
    const { rows } = await this.pool.query<{ seq: string; payload: Message }>(
      'SELECT seq, payload FROM tier_patches WHERE conversation_id = $1 AND seq = ANY($2::bigint[])',
      [conversationId, archived],
    );
    const patches = new Map(rows.map((r) => [Number(r.seq), r.payload]));
    return messages.map((m) => (hot.has(m.seq) ? m : patches.get(m.seq) ?? m));
  }

  private async read(conversationId: string, block: BlockRow): Promise<Message[]> {
    const cacheKey = `${block.tier}:${conversationId}:${block.first_seq}:${block.checksum}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const where = `${block.tier} ${conversationId}@${block.first_seq}`;
    let messages: Message[];
    try {
      const data = block.tier === 'warm' ? await this.warmData(conversationId, Number(block.first_seq)) : await this.blobs.get(block.key!);
      messages = decodeBlock(data, block.codec, block.checksum, where);
    } catch (err) {
      if (err instanceof CorruptBlockError) {
        await this.pool.query(
          `INSERT INTO damaged_blocks (tier, conversation_id, first_seq, reason) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
          [block.tier, conversationId, block.first_seq, err.message],
        );
      }
      throw err;
    }
    this.cache.set(cacheKey, messages);
    if (this.cache.size > CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    return messages;
  }

  private async warmData(conversationId: string, firstSeq: number): Promise<Uint8Array> {
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM warm_blocks WHERE conversation_id = $1 AND first_seq = $2', [conversationId, firstSeq]);
    if (!rows[0]) throw new BlockMovedError();
    return rows[0].data;
  }
}

class BlockMovedError extends Error {}
