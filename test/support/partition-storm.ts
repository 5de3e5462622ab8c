import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './app-process';
import type { TestClient } from './clients';
import { History, moreAcks, sendStorm } from './history';
import type { Senders } from './senders';
import { caughtUp } from './inspect';
import { cursorsOf } from './ledger';
import { pairsCoveringPartitions } from './partition-pairs';
import { PARTITIONS, type HostName, type PartitionCluster } from './partition-cluster';
import { waitFor } from './wait';

/** The promise of docs/protocol.md: presence (and unread) right within 30 s. */
export const CONVERGE_MS = 30_000;
/**
 * After healing, a message acked then reaches every live receiver within this: routes
 * between the NATS nodes come back, the projection's consumers pull again (within
 * PULL_EXPIRES_MS of a leader move). Measured 0.1-15 s with pulls of 5 s; 35-48 s with 30 s.
 */
export const LIVE_AGAIN_MS = 30_000;

export interface StormContext {
  cluster: PartitionCluster;
  history: History;
  storm: Senders;
  /** Waits for `n` more acks (the side that keeps accepting sends does). */
  moreAcks(n: number, what: string, timeoutMs?: number): Promise<void>;
}

/** How long an app's cut from a backend lasts: under the 25 s presence lease, past the 5 s publish timeout. */
const CUT_MS = 10_000;

/**
 * Cuts hosts `a` from hosts `b` for CUT_MS while the storm goes on (the senders of the
 * other side keep getting acks), then heals and waits for every replica of `streams`.
 */
export async function cutDuring({ cluster, history, moreAcks }: StormContext, streams: string[], what: string, a: HostName[], b: HostName[]): Promise<void> {
  cluster.net.partition(a, b);
  const at = Date.now();
  history.note(`cut: {${a.join(', ')}} | {${b.join(', ')}} (${what})`);
  await moreAcks(20, `during ${what}`, 30_000);
  await waitFor(`${CUT_MS} ms of ${what}`, () => Date.now() - at >= CUT_MS, CUT_MS + 30_000, 100);
  cluster.net.heal();
  history.note(`healed (${what})`);
  await cluster.nats.streamsCurrent(streams, 60_000);
}

export interface CaseResult {
  problems: string[];
  table: string;
  /** Presence events that said a user who stayed connected went offline. */
  flaps: number;
}

/**
 * A send storm with live receivers and an offline member, a fault in the middle, and the
 * checks after healing. The storm: one direct conversation per partition (the sender on
 * one gateway, the receiver live on the other) and a group of two senders, two live
 * receivers and a member who stays offline; a live receiver watches the others' presence.
 * `fault` injects and heals (the storm runs through it); then the senders finish, and the
 * history is checked: nothing acked lost or doubled (timeline, every member's sync and
 * history), unknown sends there once at most, every live receiver got every message live
 * or by its sync, the offline member's unread and every presence right within 30 s, every
 * process still the one started (none restarted by hand) and ready again.
 */
export async function runStormCase(cluster: PartitionCluster, name: string, fault: (ctx: StormContext) => Promise<void>, opts: { presenceMayFlap?: boolean; liveMayReorder?: boolean } = {}): Promise<CaseResult> {
  const history = new History();
  const clients: TestClient[] = [];
  const connect = async (gw: number, user: string, device: string) => {
    const c = await cluster.connect(gw, user, device);
    clients.push(c);
    return c;
  };
  const p = name.replace(/[^a-z0-9]/gi, '').slice(0, 6).toLowerCase();
  try {
    const pairs = pairsCoveringPartitions(`${p}_`, PARTITIONS);
    const members: Record<string, string[]> = {};
    const senders: Array<{ client: TestClient; device: string; conversationId: string }> = [];
    const receivers: Array<{ user: string; gw: number; conversationId: string }> = [];
    for (const [i, [a, b]] of pairs.entries()) {
      const sender = await connect(i % 2, a, 'phone');
      const { conversation } = await sender.ok('conversation:create', { type: 'direct', members: [b] });
      members[conversation.id] = [a, b];
      senders.push({ client: sender, device: 'phone', conversationId: conversation.id });
      receivers.push({ user: b, gw: (i + 1) % 2, conversationId: conversation.id });
    }
    const [g0, g1, g2, g3, off] = ['g0', 'g1', 'g2', 'g3', 'off'].map((u) => `${p}_${u}`) as [string, string, string, string, string];
    const gs0 = await connect(0, g0, 'phone');
    const gs1 = await connect(1, g1, 'phone');
    const { conversation: group } = await gs0.ok('conversation:create', { type: 'group', members: [g1, g2, g3, off], title: name });
    members[group.id] = [g0, g1, g2, g3, off];
    senders.push({ client: gs0, device: 'phone', conversationId: group.id }, { client: gs1, device: 'phone', conversationId: group.id });
    receivers.push({ user: g2, gw: 0, conversationId: group.id }, { user: g3, gw: 1, conversationId: group.id });

    const everyone = Object.values(members).flat();
    const cursors = await cursorsOf(cluster.gateways[0]!.app.url, everyone);
    const live: TestClient[] = [];
    for (const r of receivers) {
      const c = await connect(r.gw, r.user, 'watch');
      await history.watch(c, 'watch', [r.conversationId]);
      live.push(c);
    }
    const presenceWatcher = live.find((c) => c.userId === g2)!;
    const watched = [g0, g1, g3, off];
    await presenceWatcher.ok('presence:subscribe', { userIds: watched });

    const storm = sendStorm(history, senders, { prefix: p, timeoutMs: 5_000, pauseMs: 20 });
    const ctx: StormContext = { cluster, history, storm, moreAcks: (n, what, t) => moreAcks(storm, n, what, t) };
    const problems: string[] = [];
    try {
      await ctx.moreAcks(30, 'before the fault');
      history.note(`storm running: ${storm.acks()} acks`);
      await fault(ctx);
      // Healed: live delivery must come back by itself, soon, on every receiver.
      const healed = Date.now();
      const lastAcked = new Map<string, number>();
      for (const a of history.ledger.all()) lastAcked.set(a.conversationId, Math.max(lastAcked.get(a.conversationId) ?? 0, a.seq));
      await waitFor(`live delivery on every receiver within ${LIVE_AGAIN_MS} ms of healing`, () => {
        storm.check();
        const behind = receivers.filter((r) => !history.deliveries.some((d) => d.via === 'live' && d.userId === r.user && d.conversationId === r.conversationId && d.seq > (lastAcked.get(r.conversationId) ?? 0)));
        if (behind.length) throw new Error(`nothing new live yet for ${behind.map((r) => r.user).join(', ')}`);
        return true;
      }, LIVE_AGAIN_MS, 50).catch((err: Error) => problems.push(err.message));
      history.note(`live delivery back on every receiver after ${Date.now() - healed} ms`);
      await ctx.moreAcks(30, 'after healing');
    } finally {
      await storm.stop();
      history.note(`storm stopped: ${storm.acks()} acks`);
    }

    // No process needed a hand: every one is the process started, ready again.
    await cluster.allReady(60_000).catch((err: Error) => problems.push(err.message));
    // A projection that never catches up is a finding like any other: the table and the raw history still come out.
    await caughtUp(cluster.ns).then(() => history.note('projection caught up'), (err: Error) => problems.push(err.message));
    await history.syncWatchers();
    problems.push(...(await history.check(cluster.ns, { url: cluster.gateways[0]!.app.url, members, cursors, ...(opts.liveMayReorder && { liveMayReorder: true }) })));

    // The offline member's unread: every acked message of the group (all from others).
    const groupAcks = history.ledger.all().filter((s) => s.conversationId === group.id).length;
    const offline = await connect(1, off, 'later');
    const healedAt = Date.now();
    await waitFor(`${off}'s unread to be ${groupAcks}`, async () => {
      const { conversations } = await offline.ok('conversation:list', { limit: 50 });
      const unread = conversations.find((c) => c.id === group.id)?.unread;
      if (unread !== groupAcks) throw new Error(`unread is ${unread}`);
      return true;
    }, CONVERGE_MS, 200).catch((err: Error) => problems.push(err.message));
    offline.close();
    // Presence: the senders and the other receiver online, the offline member offline again.
    await waitFor('presence of every watched user right', async () => {
      const { presence } = await presenceWatcher.ok('presence:subscribe', { userIds: watched });
      const wrong = presence.filter((s) => s.status !== (s.userId === off ? 'offline' : 'online'));
      if (wrong.length) throw new Error(`wrong: ${JSON.stringify(wrong)}`);
      return true;
    }, CONVERGE_MS, 200).catch((err: Error) => problems.push(err.message));
    history.note(`unread and presence checked in ${Date.now() - healedAt} ms`);
    const flaps = history.presence.filter((e) => e.userId !== off && e.status === 'offline').length;
    if (flaps && !opts.presenceMayFlap) problems.push(`presence flapped: ${flaps} offline events for users who stayed connected`);
    for (const a of cluster.apps()) {
      if (a.app.child.exitCode !== null || a.app.child.signalCode !== null) problems.push(`${a.host} exited (${a.app.child.exitCode ?? a.app.child.signalCode})`);
    }

    const table = history.table(`partition case "${name}"`, { 'presence flaps': flaps, problems: problems.length });
    process.stdout.write(`${table}\n`);
    if (problems.length) {
      const file = history.save(name, problems);
      process.stdout.write(`raw history: ${file}\n`);
      saveNatsLogs(cluster, name);
    }
    return { problems, table, flaps };
  } catch (err) {
    saveNatsLogs(cluster, name);
    throw err;
  } finally {
    for (const c of clients) c.close();
  }
}

/** The NATS nodes' own logs (elections, catch-ups), kept beside the raw history when a case fails. */
function saveNatsLogs(cluster: PartitionCluster, name: string): void {
  const dir = join(ROOT, 'test-output');
  mkdirSync(dir, { recursive: true });
  cluster.nats.nodes.forEach((node, i) => writeFileSync(join(dir, `partitions-${name}-${node.name}.log`), cluster.nats.output(i)));
  process.stdout.write(`NATS logs: ${join(dir, `partitions-${name}-n*.log`)}\n`);
}
