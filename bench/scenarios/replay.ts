import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { Pool } from 'pg';
import { loadConfig } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { blobStoreOf, createLogger } from '@chat/platform';
import { createPool, ensureDatabase, ensureProjectionSchema, migrate, TIMELINE } from '@chat/storage';
import { ProjectionRebuild } from '../../apps/projector/src/projection.rebuild';
import { BenchNamespace } from '../bench-system';

/** The body of every benchmark message: the size of a typical chat line with its metadata. */
export const BODY_BYTES = 200;
const MEMBERS = 5;

export interface ReplayResult {
  events: number;
  /** Raw JetStream: acked publishes, 1,000 in flight, and an ordered consumer per partition. */
  publishPerS: number;
  consumePerS: number;
  /** Raw Postgres: timeline rows in batches of 500, one transaction each, four writers. */
  postgresRowsPerS: number;
  replayPerS: number;
}

/**
 * (e) replay, with three of the ceilings on the same events: the log is published with
 * raw JetStream publishes, read back with raw ordered consumers, timeline rows are
 * inserted raw, then the timeline projection is rebuilt from the log with the code path
 * of `npm run replay -- timeline`.
 */
export async function replayScenario(opts: { events: number; conversations: number }, say: (line: string) => void): Promise<ReplayResult> {
  const ns = new BenchNamespace();
  const config = loadConfig({ ...process.env, ...ns.env });
  const names = new Names(ns.name, config.CHAT_PARTITIONS);
  const nc = await connectNats(config.CHAT_NATS_URL, 'bench-replay');
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 120_000 });
  await ensureDatabase(config.CHAT_DATABASE_URL);
  const pool = createPool(config.CHAT_DATABASE_URL, 8, TIMELINE);
  try {
    await migrate(pool);
    await ensureProjectionSchema(pool, TIMELINE);
    say(`  raw JetStream publish: ${opts.events} events in ${opts.conversations} groups of ${MEMBERS}`);
    const publish = await publishLog(js, names, opts.events, opts.conversations, say);
    say('  raw JetStream consume');
    const consume = await rawConsume(js, names);
    say('  raw Postgres insert of timeline rows');
    const insert = await insertRows(pool, opts.events);
    say('  replay: rebuilding the timeline projection from the log');
    const rebuild = new ProjectionRebuild({
      databaseUrl: config.CHAT_DATABASE_URL, pool, js, jsm, names, fanoutMax: config.CHAT_PUSH_FANOUT_MAX, batchSize: config.CHAT_PROJECTOR_BATCH,
      blobs: blobStoreOf(config), log: createLogger('warn', 'bench'),
    });
    let last = 0;
    const result = await rebuild.run((p) => {
      if (Date.now() - last > 2000) {
        last = Date.now();
        say(`    ${p.applied}/${p.total} events, ${p.eventsPerSecond} events/s (${p.state})`);
      }
    });
    const replaySeconds = (Date.parse(result.finishedAt!) - Date.parse(result.startedAt)) / 1000;
    const out = {
      events: opts.events, publishPerS: opts.events / publish, consumePerS: opts.events / consume,
      postgresRowsPerS: opts.events / insert, replayPerS: result.applied / replaySeconds,
    };
    say(`  publish ${Math.round(out.publishPerS)}/s, consume ${Math.round(out.consumePerS)}/s, Postgres rows ${Math.round(out.postgresRowsPerS)}/s, replay ${Math.round(out.replayPerS)} events/s`);
    return out;
  } finally {
    await pool.end();
    await nc.close();
    await ns.drop();
  }
}

/** Creates the conversations, then sends messages round-robin, 1,000 in flight; returns seconds. */
async function publishLog(js: JetStreamClient, names: Names, count: number, conversations: number, say: (line: string) => void): Promise<number> {
  const at = new Date().toISOString();
  const body = 'x'.repeat(BODY_BYTES);
  const ids = Array.from({ length: conversations }, (_, i) => `g_bench${i}`);
  const events: Array<[string, string]> = ids.map((id) => [
    id,
    JSON.stringify({ type: 'ConversationCreated', v: 1, conversationId: id, kind: 'group', members: Array.from({ length: MEMBERS }, (_, m) => `u${m}`), createdBy: 'u0', at }),
  ]);
  for (let i = events.length; i < count; i++) {
    const id = ids[i % conversations]!;
    events.push([id, JSON.stringify({ type: 'MessageSent', v: 1, conversationId: id, senderId: `u${i % MEMBERS}`, clientMsgId: `b${i}`, body, at })]);
  }
  const started = performance.now();
  const window = 1000;
  for (let i = 0; i < events.length; i += window) {
    await Promise.all(events.slice(i, i + window).map(([id, data]) => js.publish(names.conversationSubject(names.partitionFor(id), id), data)));
    if (i % 20_000 === 0 && i) say(`    published ${i}`);
  }
  return (performance.now() - started) / 1000;
}

async function rawConsume(js: JetStreamClient, names: Names): Promise<number> {
  const started = performance.now();
  await Promise.all(
    names.allPartitions().map(async (p) => {
      const consumer = await js.consumers.get(names.stream(p), { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({ max_messages: 1000 });
      for await (const m of messages) {
        m.json();
        if (m.info.pending === 0) break;
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Timeline rows as the projector writes them, 500 per transaction, four writers; returns seconds. */
async function insertRows(pool: Pool, count: number): Promise<number> {
  const body = 'x'.repeat(BODY_BYTES);
  const at = new Date().toISOString();
  const writers = 4;
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    const client = await pool.connect();
    try {
      for (let i = w * 500; i < count; i += writers * 500) {
        const n = Math.min(500, count - i);
        const seqs = Array.from({ length: n }, (_, k) => i + k + 1);
        const payloads = seqs.map((seq) => JSON.stringify({ type: 'message', conversationId: `ceiling${w}`, seq, senderId: 'u0', clientMsgId: `c${seq}`, body, sentAt: at }));
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO timeline (conversation_id, seq, partition, kind, message_no, payload, at)
           SELECT $1, s, $2, 'message', s, p::jsonb, $3 FROM unnest($4::bigint[], $5::text[]) AS t(s, p)`,
          [`ceiling${w}`, w, at, seqs, payloads],
        );
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.query(`DELETE FROM timeline WHERE conversation_id LIKE 'ceiling%'`);
  return seconds;
}
