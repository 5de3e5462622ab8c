import { LoadPool } from '../load-pool';
import type { ConversationSpec, Send } from '../load-protocol';
import { BENCH_SECRET } from '../bench-system';
import { runAtRate, type RateStep } from './rate-steps';

export interface GroupRow {
  size: number;
  groups: number;
  step: RateStep;
}

/**
 * Groups of each size at a fixed send rate, every member online with one device, members
 * spread over the load processes (and so over the gateways): deliveries/s and
 * send-to-deliver latency. Whether the system pushes or pulls is the caller's
 * CHAT_PUSH_FANOUT_MAX.
 */
export async function groups(
  opts: {
    urls: string[]; workers: number; sizes: number[]; usersPerSize: number; rate: number; seconds: number; label: string;
    /** Every other member's sends are replies in the thread of a root each group starts with. */
    threads?: boolean;
  },
  say: (line: string) => void,
): Promise<GroupRow[]> {
  const pool = new LoadPool(opts.workers, { CHAT_JWT_SECRET: BENCH_SECRET });
  const worker = (m: number) => m % opts.workers;
  try {
    const layout = opts.sizes.map((size) => {
      const count = Math.max(1, Math.floor(opts.usersPerSize / size));
      const members = Array.from({ length: count }, (_, g) => Array.from({ length: size }, (_, m) => `s${size}g${g}m${m}`));
      return { size, count, members };
    });
    const users = layout.flatMap((l) => l.members.flat());
    await pool.all((w) => ({ type: 'connect', url: opts.urls[w % opts.urls.length]!, target: 'chat', userIds: users.filter((u) => worker(Number(u.slice(u.lastIndexOf('m') + 1))) === w) }), 'connected');
    say(`  ${users.length} members online; creating ${layout.reduce((a, l) => a + l.count, 0)} groups`);
    // Member 0 of every group lives in load process 0, which creates them all.
    const specs = layout.flatMap((l) => l.members.map((members, g): ConversationSpec => ({ id: `s${l.size}g${g}`, kind: 'group', members })));
    const { ids } = await pool.call(0, { type: 'create', conversations: specs }, 'created');
    const rows: GroupRow[] = [];
    let offset = 0;
    for (const l of layout) {
      const convIds = ids.slice(offset, offset + l.count);
      offset += l.count;
      const roots = opts.threads ? await startThreads(pool, l.members, convIds, l.size - 1) : [];
      // Every member takes a turn at sending, from its own load process.
      const sends: Send[][] = Array.from({ length: opts.workers }, () => []);
      l.members.forEach((members, g) => members.forEach((u, m) => sends[worker(m)]!.push({
        userId: u, conversationId: convIds[g]!, ...(opts.threads && m % 2 === 1 && { threadRootSeq: roots[g]! }),
      })));
      const step = await runAtRate(pool, sends, opts.rate, opts.seconds, `${opts.label}${l.size}-`, l.size - 1);
      say(`  ${opts.label} groups of ${l.size}: ${Math.round(step.sendsPerS)} sends/s, ${Math.round(step.deliveriesPerS)} deliveries/s, p50 ${step.latency.p50.toFixed(1)} ms, p99 ${step.latency.p99.toFixed(1)} ms${step.deliveries < step.expected ? ` (${step.expected - step.deliveries} deliveries missing)` : ''}`);
      rows.push({ size: l.size, groups: l.count, step });
    }
    await pool.all(() => ({ type: 'close' }), 'closed');
    return rows;
  } finally {
    pool.stop();
  }
}

/**
 * One root per group, sent by its member 0 (in load process 0), and its deliveries drained
 * before the step, so that they count in none of its figures. Returns each group's root seq.
 */
async function startThreads(pool: LoadPool, members: string[][], convIds: string[], fanout: number): Promise<number[]> {
  const { keys } = await pool.call(0, { type: 'sendEach', sends: members.map((m, g) => ({ userId: m[0]!, conversationId: convIds[g]! })), tag: 'root' }, 'sent');
  const deadline = Date.now() + 15_000;
  for (let delivered = 0; delivered < members.length * fanout && Date.now() < deadline; ) {
    for (const c of await pool.all(() => ({ type: 'collect' }), 'collected')) delivered += c.deliveries;
    await new Promise((r) => setTimeout(r, 50));
  }
  return keys.map((k) => Number(k.slice(k.lastIndexOf('#') + 1)));
}
