import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { blobStoreOf, createLogger } from '@chat/platform';
import { ArchiveRepository, createPool, ensureDatabase, ensureProjectionSchema, migrate, TieredMessages, TIMELINE } from '@chat/storage';
import { ProjectionRebuild } from '../../apps/projector/src/projection.rebuild';
import { BenchNamespace } from '../bench-system';
import { percentile } from '../stats';

const CONVERSATIONS = 20;
const PAGE = 50;

export interface TierRow {
  tier: string;
  p50: number;
  p99: number;
  bytesPerMessage: number;
  payloadBytesPerMessage: number | null;
}

/**
 * (f) history pages per storage tier: `messages` written through the log and the
 * projection, then `reads` pages of 50 from random points on the real read path
 * (TieredMessages): all hot, all warm, all cold with the block cache, and cold with a
 * fresh reader each time (every page fetches and verifies its block from S3).
 */
export async function tiersScenario(opts: { messages: number; reads: number }, say: (line: string) => void): Promise<TierRow[]> {
  const MESSAGES = opts.messages;
  const READS = opts.reads;
  const bench = new BenchNamespace();
  const ns = bench.name;
  const config = loadConfig({ ...process.env, ...bench.env });
  const names = new Names(ns, config.CHAT_PARTITIONS);
  const nc = await connectNats(config.CHAT_NATS_URL, 'bench-tiers');
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 120_000 });
  await ensureDatabase(config.CHAT_DATABASE_URL);
  const pool = createPool(config.CHAT_DATABASE_URL, 8, TIMELINE);
  const blobs = blobStoreOf(config);
  await blobs.ensureBucket();
  const archive = new ArchiveRepository(pool, blobs, `${ns}/${TIMELINE}/`);
  try {
    await migrate(pool);
    await ensureProjectionSchema(pool, TIMELINE);
    say(`  writing ${MESSAGES} messages in ${CONVERSATIONS} conversations through the log and the projection`);
    const start = Date.now() - MESSAGES * 1000;
    const at = new Date(start).toISOString();
    // Text that compresses like chat does: words drawn at random, lengths that vary, distinct times.
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const words = 'the a to and of you i it is that in for on we this be are with have do at not can will so but just my me your what get if all about was like up out know now one how when lunch meeting tomorrow ok thanks sure great see later call deploy build test fixed bug review link here there time day week friday monday slides'.split(' ');
    const sentence = () => Array.from({ length: 2 + Math.floor(rand() * 25) }, () => words[Math.floor(rand() * words.length)]).join(' ');
    const ids = Array.from({ length: CONVERSATIONS }, (_, i) => `g_tier${i}`);
    const events = ids.map((id) => [id, JSON.stringify({ type: 'ConversationCreated', v: 1, conversationId: id, kind: 'group', members: ['u0', 'u1'], createdBy: 'u0', at })] as const);
    const all = [...events, ...Array.from({ length: MESSAGES }, (_, i) => {
      const id = ids[i % CONVERSATIONS]!;
      const sentAt = new Date(start + i * 1000 + Math.floor(rand() * 1000)).toISOString();
      return [id, JSON.stringify({ type: 'MessageSent', v: 1, conversationId: id, senderId: `u${i % 2}`, clientMsgId: randomBytes(8).toString('hex'), body: sentence(), at: sentAt })] as const;
    })];
    for (let i = 0; i < all.length; i += 1000) {
      await Promise.all(all.slice(i, i + 1000).map(([id, body]) => js.publish(names.conversationSubject(names.partitionFor(id), id), body)));
    }
    await new ProjectionRebuild({
      databaseUrl: config.CHAT_DATABASE_URL, pool, js, jsm, names, fanoutMax: 100, batchSize: 500, blobs, log: createLogger('warn', 'bench'),
    }).run();

    const perConversation = MESSAGES / CONVERSATIONS;
    const measure = async (fresh: boolean) => {
      let reader = new TieredMessages(pool, blobs);
      const times: number[] = [];
      for (let i = 0; i < READS; i++) {
        if (fresh) reader = new TieredMessages(pool, blobs);
        const id = ids[i % CONVERSATIONS]!;
        // Conversation seqs interleave in a partition: page back from (and including) a random message of the conversation.
        const { rows } = await pool.query<{ seq: string }>(
          `SELECT seq FROM (SELECT seq FROM timeline WHERE conversation_id = $1 AND kind = 'message'
             UNION ALL SELECT last_seq FROM warm_blocks WHERE conversation_id = $1
             UNION ALL SELECT last_seq FROM cold_manifest WHERE conversation_id = $1) s ORDER BY random() LIMIT 1`,
          [id],
        );
        const started = performance.now();
        const page = await reader.page(id, { beforeSeq: Number(rows[0]!.seq) + 1 }, PAGE, 'desc');
        times.push(performance.now() - started);
        if (page.messages.length === 0 && perConversation > PAGE) throw new Error('empty page');
      }
      const sorted = times.sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    };
    const bytes = async () => (await archive.stats()).tiers;

    say('  hot: history pages');
    const hot = await measure(false);
    const hotRelation = await pool.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'timeline' AND n.nspname = $1`,
      [TIMELINE],
    );
    const hotStats = (await bytes()).find((t) => t.tier === 'hot')!;
    say('  moving everything to the warm tier');
    await archive.hotToWarm(new Date(Date.now() + 60_000), 200);
    const warm = await measure(false);
    const warmStats = (await bytes()).find((t) => t.tier === 'warm')! as { messages: number; bytes: number; rawBytes?: number };
    say('  moving everything to the cold tier (S3)');
    await archive.warmToCold(new Date(Date.now() + 60_000));
    const coldCached = await measure(false);
    const coldFirst = await measure(true);
    const coldStats = (await bytes()).find((t) => t.tier === 'cold')! as { messages: number; bytes: number };

    const perMessage = (b: number, n: number) => (n ? b / n : 0);
    const rows = [
      ['hot (Postgres rows)', hot, perMessage(Number(hotRelation.rows[0]!.bytes), hotStats.messages), perMessage(hotStats.bytes, hotStats.messages)],
      ['warm (compressed blocks in Postgres)', warm, perMessage(warmStats.bytes, warmStats.messages), perMessage(warmStats.rawBytes ?? 0, warmStats.messages)],
      ['cold (S3 objects), block cached', coldCached, perMessage(coldStats.bytes, coldStats.messages), 0],
      ['cold (S3 objects), first read', coldFirst, perMessage(coldStats.bytes, coldStats.messages), 0],
    ] as const;
    return rows.map(([tier, t, bytes, raw]) => ({ tier, p50: t.p50, p99: t.p99, bytesPerMessage: bytes, payloadBytesPerMessage: raw || null }));
  } finally {
    await pool.end();
    blobs.close();
    await nc.close();
    await bench.drop();
  }
}
