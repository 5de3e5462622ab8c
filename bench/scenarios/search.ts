import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Pool } from 'pg';
import { loadConfig } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { blobStoreOf, createLogger } from '@chat/platform';
import { createPool, ensureDatabase, ensureProjectionSchema, migrate, SEARCH, SEARCH_SCAN_MAX, SearchQueries, TieredMessages, TIMELINE, type Projection } from '@chat/storage';
import { ProjectionRebuild } from '../../apps/projector/src/projection.rebuild';
import { BenchNamespace } from '../bench-system';
import { CpuMeter, type SharedService } from '../cpu';
import { percentiles, type Percentiles } from '../stats';

const MEMBERS = 5;
/** Words drawn with a skewed (Zipf-like) frequency: `w0` is in about a third of the messages, `w15000` in about 0.1%. */
const VOCABULARY = 20_000;
const WORDS_PER_MESSAGE = 10;

export interface ProjectionCost {
  projection: Projection;
  events: number;
  seconds: number;
  /** CPU of the projecting process (the same applier as the live projector), per event. */
  processUsPerEvent: number;
  /** CPU of Postgres (the shared service), per event. */
  postgresUsPerEvent: number | null;
}

export interface SearchLatencyRow {
  query: string;
  matches: number;
  latency: Percentiles;
}

export interface SearchResult {
  costs: ProjectionCost[];
  /** Reading 20 hits' messages back (TieredMessages.many, hot rows), ms. */
  hitLoad: Percentiles;
  rows: number;
  conversations: number;
  loadSeconds: number;
  indexSeconds: number;
  /** GIN index and table (heap + its primary key) bytes per message; the timeline's hot rows (with their indexes), for comparison. */
  ginBytesPerMessage: number;
  tableBytesPerMessage: number;
  timelineBytesPerMessage: number;
  latency: SearchLatencyRow[];
}

/**
 * (g) search. Cost: `events` real events (messages with words) published to the log and
 * projected through the timeline, then through the search index, with the code path of
 * `npm run replay -- <projection>` (the live appliers), CPU measured for each. Latency:
 * the index bulk-loaded to `rows` messages in `conversations` conversations of 5
 * members (INSERT ... SELECT generate_series), then the index query (SearchQueries.find,
 * the caller's membership periods joined) timed for words of every frequency.
 */
export async function searchScenario(
  opts: { events: number; rows: number; conversations: number; queries: number },
  services: SharedService[],
  say: (line: string) => void,
): Promise<SearchResult> {
  const ns = new BenchNamespace();
  const config = loadConfig({ ...process.env, ...ns.env });
  const names = new Names(ns.name, config.CHAT_PARTITIONS);
  const nc = await connectNats(config.CHAT_NATS_URL, 'bench-search');
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 120_000 });
  await ensureDatabase(config.CHAT_DATABASE_URL);
  const pool = createPool(config.CHAT_DATABASE_URL, 8, TIMELINE);
  const blobs = blobStoreOf(config);
  const postgres = services.filter((s) => s.name === 'postgres');
  try {
    await migrate(pool);
    await ensureProjectionSchema(pool, TIMELINE);
    await ensureProjectionSchema(pool, SEARCH);

    say(`  publishing ${opts.events} messages with words to the log`);
    const ids = await publishLog(js, names, opts.events, Math.max(1, opts.events / 100));
    const costs: ProjectionCost[] = [];
    for (const projection of [TIMELINE, SEARCH] as const) {
      const meter = new CpuMeter([], postgres);
      const before = meter.sample();
      const cpu = process.cpuUsage();
      const result = await new ProjectionRebuild({
        projection, databaseUrl: config.CHAT_DATABASE_URL, pool, js, jsm, names, fanoutMax: config.CHAT_PUSH_FANOUT_MAX,
        batchSize: config.CHAT_PROJECTOR_BATCH, blobs, log: createLogger('warn', 'bench'),
      }).run();
      const used = process.cpuUsage(cpu);
      const step = meter.between(before, meter.sample(), result.applied);
      const cost = {
        projection, events: result.applied, seconds: step.seconds,
        processUsPerEvent: (used.user + used.system) / result.applied,
        postgresUsPerEvent: postgres.length ? step.servicesUsPerDelivery : null,
      };
      say(`  ${projection}: ${result.applied} events in ${cost.seconds.toFixed(1)} s, ${cost.processUsPerEvent.toFixed(1)} µs process CPU and ${cost.postgresUsPerEvent?.toFixed(1) ?? '?'} µs Postgres CPU per event`);
      costs.push(cost);
    }
    const hitLoad = await timeHitLoads(pool, blobs, ids, opts.queries);

    say(`  bulk-loading the index: ${opts.rows} messages in ${opts.conversations} conversations`);
    const load = await bulkLoad(pool, opts.rows, opts.conversations);
    const sizes = await pool.query<{ gin: string; heap: string; timeline: string }>(
      `SELECT pg_relation_size('search.messages_tsv') AS gin, pg_table_size('search.messages') + pg_relation_size('search.messages_pkey') AS heap,
              (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('timeline')) AS timeline`,
    );
    const timelineRows = opts.events - Math.max(1, opts.events / 100);
    say(`  loaded in ${load.loadSeconds.toFixed(0)} s, GIN index built in ${load.indexSeconds.toFixed(0)} s`);
    const latency = await timeQueries(pool, opts.conversations, opts.queries, say);
    return {
      costs, hitLoad, rows: opts.rows, conversations: opts.conversations, ...load,
      ginBytesPerMessage: Number(sizes.rows[0]!.gin) / opts.rows,
      tableBytesPerMessage: Number(sizes.rows[0]!.heap) / opts.rows,
      timelineBytesPerMessage: Number(sizes.rows[0]!.timeline) / timelineRows,
      latency,
    };
  } finally {
    blobs.close();
    await pool.end();
    await nc.close();
    await ns.drop();
  }
}

/** The words of a message, drawn as the bulk load draws them (u^3 over the vocabulary). */
function sentence(rand: () => number): string {
  return Array.from({ length: WORDS_PER_MESSAGE }, () => `w${Math.floor(rand() ** 3 * VOCABULARY)}`).join(' ');
}

async function publishLog(js: ReturnType<typeof jetstream>, names: Names, count: number, conversations: number): Promise<string[]> {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const at = new Date().toISOString();
  const ids = Array.from({ length: conversations }, (_, i) => `g_search${i}`);
  const events: Array<[string, string]> = ids.map((id) => [
    id,
    JSON.stringify({ type: 'ConversationCreated', v: 1, conversationId: id, kind: 'group', members: Array.from({ length: MEMBERS }, (_, m) => `u${m}`), createdBy: 'u0', at }),
  ]);
  for (let i = events.length; i < count; i++) {
    const id = ids[i % conversations]!;
    events.push([id, JSON.stringify({ type: 'MessageSent', v: 1, conversationId: id, senderId: `u${i % MEMBERS}`, clientMsgId: `s${i}`, body: sentence(rand), at })]);
  }
  for (let i = 0; i < events.length; i += 1000) {
    await Promise.all(events.slice(i, i + 1000).map(([id, data]) => js.publish(names.conversationSubject(names.partitionFor(id), id), data)));
  }
  return ids;
}

/** A page of 20 hits read back through the tiers, as the gateway does after the index query. */
async function timeHitLoads(pool: Pool, blobs: ReturnType<typeof blobStoreOf>, ids: string[], n: number): Promise<Percentiles> {
  const queries = new SearchQueries(pool);
  const tiered = new TieredMessages(pool, blobs);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const refs = await queries.find('u1', `w${i % 50}`, { limit: 20, conversationId: ids[i % ids.length]! });
    const started = performance.now();
    await tiered.many(refs);
    times.push(performance.now() - started);
  }
  return percentiles(times);
}

/**
 * `rows` messages in `conversations` conversations, sent over the last year, words drawn
 * like the published ones; each conversation has 5 members out of as many users as
 * conversations (a user is in 5 conversations), user `mid` is in 200 of them and user
 * `heavy` in 1,000.
 * The GIN index is built after the load, as a restore or a rebuild of this size would.
 */
async function bulkLoad(pool: Pool, rows: number, conversations: number): Promise<{ loadSeconds: number; indexSeconds: number }> {
  const started = performance.now();
  await pool.query('DROP INDEX search.messages_tsv');
  await pool.query(
    `INSERT INTO search.messages (conversation_id, seq, sent_at, tsv)
     SELECT 'g_bulk' || (g % $2), g, now() - make_interval(secs => ($1 - g) * 31536000.0 / $1),
            to_tsvector('simple', (SELECT string_agg('w' || floor(power(random(), 3) * $3)::int, ' ') FROM generate_series(1, $4 + 0 * g)))
       FROM generate_series(1, $1) AS g`,
    [rows, conversations, VOCABULARY, WORDS_PER_MESSAGE],
  );
  await pool.query(
    `INSERT INTO membership_periods (conversation_id, user_id, joined_seq, left_seq)
     SELECT 'g_bulk' || c, 'bulk' || ((c + m) % $1), 1, NULL::bigint FROM generate_series(0, $1 - 1) c, generate_series(0, 4) m
     UNION ALL SELECT 'g_bulk' || c, 'heavy', 1, NULL FROM generate_series(0, 999) c
     UNION ALL SELECT 'g_bulk' || c, 'mid', 1, NULL FROM generate_series(0, 199) c
     ON CONFLICT DO NOTHING`,
    [conversations],
  );
  // The conversations' dense message counters, which a search reads to choose how it reads.
  await pool.query(
    `INSERT INTO conversations (id, partition, kind, created_by, created_at, last_seq, message_count, member_count, last_activity_at)
     SELECT 'g_bulk' || c, 0, 'group', 'bulk0', now(), $1::bigint, count(*), 5, now()
       FROM generate_series(0, $2::int - 1) c, LATERAL (SELECT 1 FROM generate_series(1, $1::int / $2::int)) n GROUP BY c`,
    [rows, conversations],
  );
  const loaded = performance.now();
  await pool.query('CREATE INDEX messages_tsv ON search.messages USING gin (tsv)');
  await pool.query('ANALYZE search.messages');
  await pool.query('ANALYZE membership_periods');
  return { loadSeconds: (loaded - started) / 1000, indexSeconds: (performance.now() - loaded) / 1000 };
}

async function timeQueries(pool: Pool, conversations: number, n: number, say: (line: string) => void): Promise<SearchLatencyRow[]> {
  const queries = new SearchQueries(pool);
  const cases: Array<{ query: string; text: string; user: (i: number) => string; conversation?: (i: number) => string }> = [
    { query: 'rare word (w15000), a user in 5 conversations', text: 'w15000', user: (i) => `bulk${(i * 7919) % conversations}` },
    { query: 'middling word (w500), a user in 5 conversations', text: 'w500', user: (i) => `bulk${(i * 7919) % conversations}` },
    { query: 'common word (w0), a user in 5 conversations', text: 'w0', user: (i) => `bulk${(i * 7919) % conversations}` },
    { query: 'two words ANDed (w1 w2), a user in 5 conversations', text: 'w1 w2', user: (i) => `bulk${(i * 7919) % conversations}` },
    { query: 'phrase ("w0 w1"), a user in 5 conversations', text: '"w0 w1"', user: (i) => `bulk${(i * 7919) % conversations}` },
    { query: 'common word (w0), one conversation', text: 'w0', user: (i) => `bulk${(i * 7919) % conversations}`, conversation: (i) => `g_bulk${(i * 7919) % conversations}` },
    { query: 'phrase ("w0 w1"), a user in 200 conversations', text: '"w0 w1"', user: () => 'mid' },
    { query: 'common word (w0), a user in 200 conversations', text: 'w0', user: () => 'mid' },
    { query: 'rare word (w15000), a user in 1,000 conversations', text: 'w15000', user: () => 'heavy' },
    { query: 'phrase ("w0 w1"), a user in 1,000 conversations', text: '"w0 w1"', user: () => 'heavy' },
    { query: 'common word (w0), a user in 1,000 conversations', text: 'w0', user: () => 'heavy' },
  ];
  const rows: SearchLatencyRow[] = [];
  for (const c of cases) {
    const { rows: counted } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM search.messages WHERE tsv @@ websearch_to_tsquery('simple', $1)`, [c.text]);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      // As the gateway does: what to know first, then the query, read the way the plan says.
      const started = performance.now();
      const plan = await queries.plan(c.user(i), c.text, c.conversation?.(i));
      await queries.find(c.user(i), c.text, { limit: 21, scan: plan.readable <= SEARCH_SCAN_MAX, ...(c.conversation && { conversationId: c.conversation(i) }) });
      times.push(performance.now() - started);
    }
    const row = { query: c.query, matches: Number(counted[0]!.n), latency: percentiles(times) };
    say(`    ${row.query}: p50 ${row.latency.p50.toFixed(1)} ms, p99 ${row.latency.p99.toFixed(1)} ms (${row.matches} matches in the index)`);
    rows.push(row);
  }
  return rows;
}
