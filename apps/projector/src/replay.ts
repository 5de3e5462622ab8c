import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { loadConfigOrExit } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { blobStoreOf, createLogger } from '@chat/platform';
import { createPool, ensureDatabase, ensureProjectionSchema, migrate, PROJECTIONS, SEARCH, TIMELINE, type Projection } from '@chat/storage';
import { ProjectionRebuild, type RebuildProgress } from './projection.rebuild';

/**
 * `npm run replay -- timeline` (or `search`): rebuilds a projection from the log into a fresh copy and
 * swaps it in, with a progress bar and the replay rate. Safe while the system runs.
 */
async function main(): Promise<void> {
  const projection = process.argv[2];
  if (!PROJECTIONS.includes(projection as Projection)) {
    process.stderr.write(`usage: npm run replay -- <projection>\nprojections: ${PROJECTIONS.join(', ')}\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit();
  const log = createLogger(config.CHAT_LOG_LEVEL === 'info' ? 'warn' : config.CHAT_LOG_LEVEL, 'replay');
  await ensureDatabase(config.CHAT_DATABASE_URL);
  const pool = createPool(config.CHAT_DATABASE_URL, 4, TIMELINE);
  await migrate(pool);
  // The search index follows the timeline's verdicts: the timeline must exist (a system that never started has none).
  if (projection === SEARCH) await ensureProjectionSchema(pool, TIMELINE);
  const names = new Names(config.CHAT_NAMESPACE, config.CHAT_PARTITIONS);
  const nc = await connectNats(config.CHAT_NATS_URL, 'replay');
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, names, { replicas: config.CHAT_STREAM_REPLICAS, duplicateWindowMs: config.CHAT_DUPLICATE_WINDOW });
  const rebuild = new ProjectionRebuild({
    projection: projection as Projection, databaseUrl: config.CHAT_DATABASE_URL, pool, js: jetstream(nc), jsm, names,
    fanoutMax: config.CHAT_PUSH_FANOUT_MAX, batchSize: config.CHAT_PROJECTOR_BATCH, blobs: blobStoreOf(config), log,
  });
  const bar = new ProgressBar();
  try {
    const result = await rebuild.run((p) => bar.update(p));
    bar.finish(result);
  } finally {
    await nc.close();
    await pool.end();
  }
}

/** One line, redrawn in a terminal, or a line every 2 s in a log. */
class ProgressBar {
  private lastLine = 0;
  private readonly tty = process.stdout.isTTY === true;

  update(p: RebuildProgress): void {
    const now = Date.now();
    if (!this.tty && now - this.lastLine < 2_000 && p.state === 'building') return;
    this.lastLine = now;
    const ratio = p.total ? Math.min(1, p.applied / p.total) : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(ratio * width)).padEnd(width, '.');
    const line = `replay ${p.projection} [${bar}] ${p.applied}/${p.total} events  ${p.eventsPerSecond} events/s  ${p.state}`;
    process.stdout.write(this.tty ? `\r${line}` : `${line}\n`);
  }

  finish(p: RebuildProgress): void {
    const seconds = (Date.parse(p.finishedAt!) - Date.parse(p.startedAt)) / 1000;
    process.stdout.write(`${this.tty ? '\n' : ''}\n| projection | events | seconds | events/s |\n|---|---|---|---|\n`);
    process.stdout.write(`| ${p.projection} | ${p.applied} | ${seconds.toFixed(2)} | ${p.eventsPerSecond} |\n`);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`\nreplay failed: ${err.message}\n`);
  process.exit(1);
});
