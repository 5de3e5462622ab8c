import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { loadConfigOrExit } from '@chat/config';
import { connectNats, ensureStreams, Names } from '@chat/messaging';
import { createRedis } from '@chat/platform';
import { parseReplayArgs, REPLAY_USAGE, type ReplayArgs } from './replay.args';
import { moveWebhookConsumer, positionOf, webhookConsumer } from './webhook.consumers';
import { readWebhookStatus } from './webhook.status';

/** One partition's share of a replay: its events from `start` to `target` (the end of its log when the replay began). */
interface Stretch {
  partition: number;
  start: number;
  target: number;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `npm run webhooks:replay -- --from <seq|ISO time>`: moves the webhooks' consumers back
 * (or forward) so that every event from there on is POSTed again, in order, by the running
 * webhook sender; then follows the deliveries with a progress bar until they have caught
 * up with where the log ended when the replay began. Receivers drop what they have by `id`.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const args = parseReplayArgs(process.argv.slice(2), config.CHAT_PARTITIONS);
  if (typeof args === 'string') {
    process.stderr.write(`webhooks:replay: ${args}\n${REPLAY_USAGE}\n`);
    process.exit(2);
  }
  const names = new Names(config.CHAT_NAMESPACE, config.CHAT_PARTITIONS);
  const nc = await connectNats(config.CHAT_NATS_URL, 'webhooks-replay');
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, names, { replicas: config.CHAT_STREAM_REPLICAS, duplicateWindowMs: config.CHAT_DUPLICATE_WINDOW });
    const stretches: Stretch[] = [];
    for (const partition of args.partitions ?? names.allPartitions()) {
      const { first_seq: first, last_seq: last } = (await jsm.streams.info(names.stream(partition))).state;
      const start = await startOf(jsm, names.stream(partition), args.from, Math.max(first, 1), last);
      await moveWebhookConsumer(jsm, names, partition, start);
      stretches.push({ partition, start, target: last });
      out(`partition ${partition}: from seq ${start}, ${Math.max(0, last - start + 1)} events to deliver again${start > last ? ' (nothing: the log ends at ' + last + ')' : ''}`);
    }
    if (config.CHAT_WEBHOOK_URL === undefined) {
      out('CHAT_WEBHOOK_URL is not set here: the consumers are moved; a webhook sender with CHAT_WEBHOOK_URL delivers from there.');
      return;
    }
    if (!args.follow) return;
    const redis = createRedis(config);
    try {
      await follow(jsm, names, stretches, async () => {
        const reports = await readWebhookStatus(redis, names).catch(() => new Map());
        return [...reports.values()].filter((r) => r.retrying > 0 && r.lastError).map((r) => `${r.lastError!.message} (${r.lastError!.conversationId}:${r.lastError!.seq})`)[0];
      });
    } finally {
      redis.disconnect();
    }
  } finally {
    await nc.close();
  }
}

/** Where a partition's replay starts: a seq as given (within the log), or the first event at or after a time. */
async function startOf(jsm: JetStreamManager, stream: string, from: ReplayArgs['from'], first: number, last: number): Promise<number> {
  if ('seq' in from) return Math.min(Math.max(from.seq, first), last + 1);
  // Binary search on the events' own timestamps (append times: they do not decrease along the log).
  let lo = first;
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const at = (await jsm.streams.getMessage(stream, { seq: mid }))!.time;
    if (at.getTime() >= from.time.getTime()) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Redraws one line in a terminal (a line every 2 s in a log) until every partition's position has reached its target. */
async function follow(jsm: JetStreamManager, names: Names, stretches: Stretch[], retrying: () => Promise<string | undefined>): Promise<void> {
  const total = stretches.reduce((n, s) => n + Math.max(0, s.target - s.start + 1), 0);
  const tty = process.stdout.isTTY === true;
  const began = Date.now();
  let lastLine = 0;
  process.once('SIGINT', () => {
    out('\nstopped following; the webhook sender goes on delivering');
    process.exit(130);
  });
  for (;;) {
    let delivered = 0;
    for (const s of stretches) {
      const info = await webhookConsumer(jsm, names, s.partition);
      const position = info ? positionOf(info) : s.start - 1;
      delivered += Math.min(Math.max(0, position - (s.start - 1)), Math.max(0, s.target - s.start + 1));
    }
    const done = delivered >= total;
    const now = Date.now();
    if (done || tty || now - lastLine >= 2_000) {
      lastLine = now;
      const width = 30;
      const bar = '#'.repeat(total ? Math.round((delivered / total) * width) : width).padEnd(width, '.');
      const rate = Math.round(delivered / Math.max(0.001, (now - began) / 1000));
      const failing = done ? undefined : await retrying();
      const line = `webhooks replay [${bar}] ${delivered}/${total} events  ${rate} events/s${failing ? `  retrying: ${failing}` : ''}`;
      process.stdout.write(tty ? `\r${line.padEnd(100)}` : `${line}\n`);
    }
    if (done) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Events nobody sees (refused by the rules) are passed without a call: they count too.
  out(`${tty ? '\n' : ''}done: ${total} events replayed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
}

main().catch((err: Error) => {
  process.stderr.write(`\nwebhooks:replay failed: ${err.message}\n`);
  process.exit(1);
});
