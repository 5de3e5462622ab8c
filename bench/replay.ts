/**
 * `npm run bench:replay`: how fast the timeline projection is rebuilt from the log, next to
 * the ceiling measured in the same run on the same machine: reading the same events with a
 * raw JetStream ordered consumer (no Postgres). Prints a table and writes
 * bench/results/replay.json.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { blobStoreOf, createLogger } from '@chat/platform';
import { createPool, ensureDatabase, ensureProjectionSchema, migrate, TIMELINE } from '@chat/storage';
import { TimelineRebuild } from '../apps/projector/src/timeline.rebuild';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 400);
const MEMBERS = 5;
const BODY = 'x'.repeat(200);

async function main(): Promise<void> {
  const ns = `bench_${randomBytes(3).toString('hex')}`;
  const base = loadConfig({ ...process.env, CHAT_NAMESPACE: ns });
  const url = new URL(base.CHAT_DATABASE_URL);
  url.pathname = `/${ns}`;
  const databaseUrl = url.toString();
  const names = new Names(ns, base.CHAT_PARTITIONS);
  const nc = await connectNats(base.CHAT_NATS_URL, 'bench-replay');
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 120_000 });
  await ensureDatabase(databaseUrl);
  const pool = createPool(databaseUrl, 8, TIMELINE);
  try {
    await migrate(pool);
    await ensureProjectionSchema(pool, TIMELINE);
    step(`publishing ${EVENTS} events in ${CONVERSATIONS} conversations of ${MEMBERS} members`);
    const publish = await publishLog(js, names);
    step('reading them back with raw ordered consumers');
    const consume = await rawConsume(js, names);
    step('rebuilding the timeline projection from them');
    const rebuild = new TimelineRebuild({
      databaseUrl, pool, js, jsm, names, fanoutMax: base.CHAT_PUSH_FANOUT_MAX, batchSize: base.CHAT_PROJECTOR_BATCH, blobs: blobStoreOf(base),
      log: createLogger('warn', 'bench'),
    });
    let last = 0;
    const result = await rebuild.run((p) => {
      if (Date.now() - last > 1000) {
        last = Date.now();
        step(`  ${p.applied}/${p.total} events, ${p.eventsPerSecond} events/s (${p.state})`);
      }
    });
    const replaySeconds = (Date.parse(result.finishedAt!) - Date.parse(result.startedAt)) / 1000;
    const rows = [
      ['raw JetStream publish (acked, pipelined)', EVENTS, publish, EVENTS / publish],
      ['raw JetStream consume (ordered consumer)', EVENTS, consume, EVENTS / consume],
      ['replay: timeline projection rebuilt', result.applied, replaySeconds, result.applied / replaySeconds],
    ] as const;
    const table = [
      '| what | events | seconds | events/s | vs raw consume |',
      '|---|---|---|---|---|',
      ...rows.map(([what, n, s, rate]) => `| ${what} | ${n} | ${s.toFixed(2)} | ${Math.round(rate)} | ${(rate / (EVENTS / consume)).toFixed(3)} |`),
    ].join('\n');
    process.stdout.write(`\n${table}\n\nmachine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${cpus()[0]?.model ?? ''}\n`);
    const dir = join(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'replay.json'),
      `${JSON.stringify({
        at: new Date().toISOString(), events: EVENTS, conversations: CONVERSATIONS, members: MEMBERS, body_bytes: BODY.length,
        jetstream_publish_ceiling_per_s: Math.round(EVENTS / publish), jetstream_consume_ceiling_per_s: Math.round(EVENTS / consume),
        replay_events_per_s: Math.round(result.applied / replaySeconds),
        machine: { cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model },
      }, null, 2)}\n`,
    );
  } finally {
    await pool.end();
    for (const p of names.allPartitions()) await jsm.streams.delete(names.stream(p)).catch(() => undefined);
    await nc.close();
    const admin = new Client({ connectionString: new URL('/postgres', base.CHAT_DATABASE_URL).toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${ns}" WITH (FORCE)`);
    await admin.end();
  }
}

function step(line: string): void {
  process.stdout.write(`[bench:replay] ${line}\n`);
}

/** Creates the conversations, then sends messages round-robin; returns the seconds it took. */
async function publishLog(js: JetStreamClient, names: Names): Promise<number> {
  const at = new Date().toISOString();
  const ids = Array.from({ length: CONVERSATIONS }, (_, i) => `g_bench${i}`);
  const events: Array<[string, string]> = ids.map((id) => [
    id,
    JSON.stringify({ type: 'ConversationCreated', v: 1, conversationId: id, kind: 'group', members: Array.from({ length: MEMBERS }, (_, m) => `u${m}`), createdBy: 'u0', at }),
  ]);
  for (let i = events.length; i < EVENTS; i++) {
    const id = ids[i % CONVERSATIONS]!;
    events.push([id, JSON.stringify({ type: 'MessageSent', v: 1, conversationId: id, senderId: `u${i % MEMBERS}`, clientMsgId: `b${i}`, body: BODY, at })]);
  }
  const started = performance.now();
  const window = 1000;
  for (let i = 0; i < events.length; i += window) {
    await Promise.all(events.slice(i, i + window).map(([id, body]) => js.publish(names.conversationSubject(names.partitionFor(id), id), body)));
    if (i % 10_000 === 0 && i) step(`  published ${i}`);
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

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench:replay failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
