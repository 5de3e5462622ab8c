import type { CpuMeter } from '../cpu';
import { LoadPool, spread } from '../load-pool';
import type { ConversationSpec, Send } from '../load-protocol';
import { BENCH_SECRET } from '../bench-system';
import { runAtRate, stepUntilSaturated, type RateStep } from './rate-steps';

export interface OneToOneResult {
  steps: RateStep[];
  best: RateStep | undefined;
  /** At half the highest sustained rate: the latency figures of the issue. */
  half: RateStep | undefined;
}

/**
 * 1:1 chat (or, with target `relay`, the bare Socket.IO relay of the ceiling, or with
 * `naive` the naive baseline, which speaks the relay's protocol): `pairs` direct
 * conversations, both members online, each sending in turn, at rising rates. Both
 * members of a pair live in the same load process; processes spread over `urls`.
 * With a `cpu` meter, every step (not the warm-up) carries its CPU time.
 */
export async function oneToOne(
  opts: { urls: string[]; target: 'chat' | 'relay' | 'naive'; pairs: number; workers: number; seconds: number; halfSeconds: number; start: number; fixed?: boolean; cpu?: CpuMeter },
  say: (line: string) => void,
): Promise<OneToOneResult> {
  const pool = new LoadPool(opts.workers, { CHAT_JWT_SECRET: BENCH_SECRET }, (n) => say(`  ${n} clients connected`));
  const protocol = opts.target === 'chat' ? 'chat' : 'relay';
  try {
    const pairs = spread(Array.from({ length: opts.pairs }, (_, k) => k), opts.workers);
    await pool.all((w) => ({ type: 'connect', url: opts.urls[w % opts.urls.length]!, target: protocol, userIds: pairs[w]!.flatMap((k) => [`p${k}a`, `p${k}b`]) }), 'connected');
    const specs = pairs.map((ks) => ks.map((k): ConversationSpec => ({ id: `pair${k}`, kind: 'direct', members: [`p${k}a`, `p${k}b`] })));
    const created = await pool.all((w) => ({ type: 'create', conversations: specs[w]! }), 'created');
    if (protocol === 'relay') {
      await pool.all((w) => ({ type: 'join', joins: pairs[w]!.flatMap((k) => [{ userId: `p${k}a`, room: `pair${k}` }, { userId: `p${k}b`, room: `pair${k}` }]) }), 'joined');
    }
    const sends: Send[][] = pairs.map((ks, w) => ks.flatMap((k, i) => [
      { userId: `p${k}a`, conversationId: created[w]!.ids[i]! },
      { userId: `p${k}b`, conversationId: created[w]!.ids[i]! },
    ]));
    // Warm-up: JIT, connection pools, caches.
    await runAtRate(pool, sends, opts.start, 1, `${opts.target}-warm`, 1);
    const show = (s: RateStep) => say(`  offered ${s.offered}/s: ${Math.round(s.sendsPerS)} sends/s, ${Math.round(s.deliveriesPerS)} deliveries/s, p50 ${s.latency.p50.toFixed(1)} ms, p99 ${s.latency.p99.toFixed(1)} ms${cpuText(s)}${s.sustained ? '' : ' (not sustained)'}${Object.keys(s.errors).length ? ` errors ${JSON.stringify(s.errors)}` : ''}`);
    if (opts.fixed) {
      // Only the given rate (the profile run): no stepping.
      const half = await runAtRate(pool, sends, opts.start, opts.halfSeconds, `${opts.target}-fixed`, 1, opts.cpu);
      show(half);
      return { steps: [], best: undefined, half };
    }
    const { steps, best } = await stepUntilSaturated(pool, sends, { start: opts.start, seconds: opts.seconds, fanout: 1, tag: `${opts.target}-`, cpu: opts.cpu }, show);
    let half: RateStep | undefined;
    if (best) {
      say(`  at half the highest sustained rate (${Math.round(best.sendsPerS / 2)}/s) for ${opts.halfSeconds} s`);
      half = await runAtRate(pool, sends, Math.round(best.sendsPerS / 2), opts.halfSeconds, `${opts.target}-half`, 1, opts.cpu);
      show(half);
    }
    await pool.all(() => ({ type: 'close' }), 'closed');
    return { steps, best, half };
  } finally {
    pool.stop();
  }
}

/** ", CPU 812 µs/delivery (1.4 cores), services 530 µs" for a progress line. */
function cpuText(s: RateStep): string {
  const c = s.cpu;
  if (!c || c.usPerDelivery === null) return '';
  return `, CPU ${Math.round(c.usPerDelivery)} µs/delivery (${c.productCores.toFixed(2)} cores), services ${Math.round(c.servicesUsPerDelivery!)} µs`;
}
