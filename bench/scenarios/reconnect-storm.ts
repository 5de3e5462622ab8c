import { LoadPool, spread } from '../load-pool';
import type { ConversationSpec, Send } from '../load-protocol';
import { BENCH_SECRET } from '../bench-system';

export interface StormResult {
  clients: number;
  messages: number;
  seconds: number;
  missing: string[];
}

/**
 * `clients` users in groups of `groupSize`, each group with a bot member that stays
 * online: everyone takes a sync cursor, drops, the bots post while they are away, then
 * all reconnect at once and sync. The figure is the time until the last one has every
 * message it missed; `missing` must be empty.
 */
export async function reconnectStorm(
  opts: { urls: string[]; workers: number; clients: number; groupSize: number; messagesPerGroup: number; bots: number },
  say: (line: string) => void,
): Promise<StormResult> {
  const pool = new LoadPool(opts.workers, { CHAT_JWT_SECRET: BENCH_SECRET }, (n) => say(`  ${n} clients connected`));
  try {
    const users = Array.from({ length: opts.clients }, (_, i) => `r${i}`);
    const groups = Array.from({ length: Math.ceil(opts.clients / opts.groupSize) }, (_, g) => ({
      bot: `bot${g % opts.bots}`, members: users.slice(g * opts.groupSize, (g + 1) * opts.groupSize),
    }));
    // Bot k and everything it creates live in load process k % workers.
    const home = (bot: string) => Number(bot.slice(3)) % opts.workers;
    const byWorker = spread(users, opts.workers);
    const bots = Array.from({ length: opts.bots }, (_, k) => `bot${k}`);
    await pool.all((w) => ({ type: 'connect', url: opts.urls[w % opts.urls.length]!, target: 'chat', userIds: [...bots.filter((b) => home(b) === w), ...byWorker[w]!] }), 'connected');
    const mine = (w: number) => groups.filter((g) => home(g.bot) === w);
    const created = await pool.all((w) => ({
      type: 'create', conversations: mine(w).map((g, i): ConversationSpec => ({ id: `storm${w}-${i}`, kind: 'group', members: [g.bot, ...g.members] })),
    }), 'created');
    const convOf = new Map<string, string>();
    for (let w = 0; w < opts.workers; w++) mine(w).forEach((g, i) => g.members.forEach((u) => convOf.set(u, created[w]!.ids[i]!)));
    say(`  ${opts.clients} clients in ${groups.length} groups; taking sync cursors`);
    const cursors = Object.assign({}, ...(await pool.all((w) => ({ type: 'cursors', userIds: byWorker[w]! }), 'cursors')).map((r) => r.cursors)) as Record<string, string>;
    say('  all clients drop; the bots post while they are away');
    await pool.all((w) => ({ type: 'drop', userIds: byWorker[w]! }), 'dropped');
    const sends: Send[][] = Array.from({ length: opts.workers }, (_, w) => mine(w).flatMap((g, i) =>
      Array.from({ length: opts.messagesPerGroup }, () => ({ userId: g.bot, conversationId: created[w]!.ids[i]! }))));
    const sent = (await pool.all((w) => ({ type: 'sendEach', sends: sends[w]!, tag: `storm${w}` }), 'sent')).flatMap((r) => r.keys);
    const expectIn = new Map<string, string[]>();
    for (const key of sent) {
      const conv = key.slice(0, key.lastIndexOf('#'));
      expectIn.set(conv, [...(expectIn.get(conv) ?? []), key]);
    }
    say(`  ${sent.length} messages acked; ${opts.clients} clients reconnect and sync at once`);
    const started = performance.now();
    const storms = await pool.all((w) => ({
      type: 'storm', url: opts.urls[w % opts.urls.length]!,
      users: byWorker[w]!.map((u) => ({ userId: u, cursor: cursors[u]!, expect: expectIn.get(convOf.get(u)!) ?? [] })),
    }), 'stormed');
    const seconds = (performance.now() - started) / 1000;
    const missing = storms.flatMap((s) => s.missing);
    say(`  all caught up in ${seconds.toFixed(2)} s, ${missing.length} messages missing`);
    await pool.all(() => ({ type: 'close' }), 'closed');
    return { clients: opts.clients, messages: sent.length, seconds, missing };
  } finally {
    pool.stop();
  }
}
