import { loadConfig } from '@chat/config';
import { LoadPool, spread } from '../load-pool';
import type { ConversationSpec, HeavyReport, Send } from '../load-protocol';
import { BENCH_SECRET } from '../bench-system';
import { runAtRate, type RateStep } from './rate-steps';

export interface HeavySenderResult {
  pairs: number;
  rate: number;
  alone: RateStep;
  beside: RateStep;
  heavy: HeavyReport;
  /** The quiet pairs' p99 beside the heavy sender over their p99 alone: the goal is at most 2. */
  p99Ratio: number;
}

/** The limits a heavy sender meets are the server's defaults, not the benchmark's raised ones. */
export function defaultLimits(): Record<string, string> {
  const c = loadConfig({ CHAT_NAMESPACE: 'x' });
  return {
    CHAT_SEND_RATE: String(c.CHAT_SEND_RATE), CHAT_SEND_BURST: String(c.CHAT_SEND_BURST),
    CHAT_EVENT_RATE: String(c.CHAT_EVENT_RATE), CHAT_EVENT_BURST: String(c.CHAT_EVENT_BURST),
  };
}

/**
 * `pairs` quiet 1:1 pairs at `rate` sends/s in all, measured alone and then beside one
 * heavy client (its own load process) that sends 16 KiB messages at four times its send
 * limit and keeps `historyLoops` largest history pages asked for (again as soon as an
 * answer or a retryAfterMs allows). What the heavy client
 * does to everyone else is the ratio of the quiet pairs' p99 send-to-deliver.
 */
export async function heavySender(
  opts: { urls: string[]; workers: number; pairs: number; rate: number; seconds: number; historyLoops: number },
  say: (line: string) => void,
): Promise<HeavySenderResult> {
  const env = { CHAT_JWT_SECRET: BENCH_SECRET };
  const quiet = new LoadPool(opts.workers, env, (n) => say(`  ${n} quiet clients connected`));
  const loud = new LoadPool(1, env);
  try {
    const pairs = spread(Array.from({ length: opts.pairs }, (_, k) => k), opts.workers);
    await quiet.all((w) => ({ type: 'connect', url: opts.urls[w % opts.urls.length]!, target: 'chat', userIds: pairs[w]!.flatMap((k) => [`q${k}a`, `q${k}b`]) }), 'connected');
    const specs = pairs.map((ks) => ks.map((k): ConversationSpec => ({ id: `quiet${k}`, kind: 'direct', members: [`q${k}a`, `q${k}b`] })));
    const created = await quiet.all((w) => ({ type: 'create', conversations: specs[w]! }), 'created');
    const sends: Send[][] = pairs.map((ks, w) => ks.flatMap((k, i) => [
      { userId: `q${k}a`, conversationId: created[w]!.ids[i]! },
      { userId: `q${k}b`, conversationId: created[w]!.ids[i]! },
    ]));
    await loud.call(0, { type: 'connect', url: opts.urls[0]!, target: 'chat', userIds: ['heavy', 'heavy-partner'] }, 'connected');
    const [heavyConversation] = (await loud.call(0, { type: 'create', conversations: [{ id: 'heavy', kind: 'direct', members: ['heavy', 'heavy-partner'] }] }, 'created')).ids;

    await runAtRate(quiet, sends, opts.rate, 1, 'quiet-warm', 1);
    const show = (label: string, s: RateStep) => say(`  ${label}: ${Math.round(s.sendsPerS)} sends/s, p50 ${s.latency.p50.toFixed(1)} ms, p99 ${s.latency.p99.toFixed(1)} ms, ${s.deliveries}/${s.expected} delivered${Object.keys(s.errors).length ? ` errors ${JSON.stringify(s.errors)}` : ''}`);
    const alone = await runAtRate(quiet, sends, opts.rate, opts.seconds, 'quiet-alone', 1);
    show(`${opts.pairs} quiet pairs alone`, alone);

    const sendLimit = Number(defaultLimits().CHAT_SEND_RATE);
    // The heavy client starts first and outlasts the measured step on both sides.
    const heavyRun = loud.call(0, { type: 'heavy', userId: 'heavy', conversationId: heavyConversation!, seconds: opts.seconds + 2, sendsPerS: 4 * sendLimit, bodyBytes: 16_384, historyLoops: opts.historyLoops }, 'heavied');
    await new Promise((r) => setTimeout(r, 1_000));
    const beside = await runAtRate(quiet, sends, opts.rate, opts.seconds, 'quiet-beside', 1);
    show('beside the heavy sender', beside);
    const { report: heavy } = await heavyRun;
    say(`  heavy sender: ${heavy.acked} sends acked, refused ${JSON.stringify(heavy.refused)}, ${heavy.historyAnswers} history pages (${(heavy.historyBytes / 2 ** 20).toFixed(0)} MiB)`);
    await quiet.all(() => ({ type: 'close' }), 'closed');
    await loud.call(0, { type: 'close' }, 'closed');
    return { pairs: opts.pairs, rate: opts.rate, alone, beside, heavy, p99Ratio: beside.latency.p99 / alone.latency.p99 };
  } finally {
    quiet.stop();
    loud.stop();
  }
}
