import type { ChatEvent } from '@chat/contracts';
import { startCluster, type Cluster } from '../support/cluster';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp, query } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { createNamespace, UNLIMITED, type TestNamespace } from '../support/namespace';
import { pairsCoveringPartitions } from '../support/partition-pairs';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster';
import { startSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * The whole system on a 3-node NATS cluster with R3 partition streams: two projector
 * processes that split the partitions, three gateways behind the load balancer.
 */
const PARTITIONS = 4;
jest.setTimeout(180_000);

/** The scripted run's users, and the storm's (their direct conversations must differ). */
const PAIRS = pairsCoveringPartitions('', PARTITIONS);
const USERS = PAIRS.flat();
const STORM_PAIRS = pairsCoveringPartitions('x', PARTITIONS);
const STORM_USERS = STORM_PAIRS.flat();

let nats: NatsCluster;
let ns: TestNamespace;
let cluster: Cluster;
const clients: TestClient[] = [];

beforeAll(async () => {
  nats = await startNatsCluster(3);
  ns = createNamespace('natscl', { ...UNLIMITED, CHAT_NATS_URL: nats.urls, CHAT_STREAM_REPLICAS: '3', CHAT_PARTITIONS: String(PARTITIONS) });
  cluster = await startCluster(ns.env, { projectorPartitions: ['0-1', '2-3'] });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  // Cleanup needs the streams' leaders: bring back any node a failed test left down.
  for (const [i, node] of (nats?.nodes ?? []).entries()) if (!node.running()) await nats.restart(i).catch(() => undefined);
  await ns?.cleanup().catch(() => undefined);
  await nats?.stop();
});

async function connect(url: string, userId: string, deviceId?: string): Promise<TestClient> {
  const client = await connectClient(url, userId, deviceId ? { deviceId } : {});
  clients.push(client);
  return client;
}

describe('the system on a 3-node NATS cluster', () => {
  it('creates every partition stream with a leader and two current replicas (CHAT_STREAM_REPLICAS=3)', async () => {
    await nats.streamsCurrent(streamNames());
  });

  it('delivers with two projectors and three gateways exactly what a single process delivers', async () => {
    const gateways = cluster.gateways.map((g) => g.url);
    const onCluster = await runScript((i) => gateways[i % gateways.length]!, ns);

    const single = await startSystem('natssingle', { ...UNLIMITED, CHAT_PARTITIONS: String(PARTITIONS) });
    try {
      const alone = await runScript(() => single.app.url, single.ns);
      expect(onCluster).toEqual(alone);
    } finally {
      await single.close();
    }
    // Both projectors did their share: every partition's checkpoint moved.
    const checkpoints = await query<{ partition: number }>(ns, `SELECT partition FROM checkpoints WHERE projection = 'timeline' AND last_seq > 0 ORDER BY partition`);
    expect(checkpoints.map((r) => r.partition)).toEqual([0, 1, 2, 3]);
  });

  it('stores and delivers every acked send once while one NATS node, then another, is killed during a send storm', async () => {
    const ledger = new SendLedger();
    const members: Record<string, string[]> = {};
    const senders: Array<{ client: TestClient; conversationId: string }> = [];
    for (const [a, b] of STORM_PAIRS) {
      const ca = await connect(cluster.lb, a, 'storm');
      const { conversation } = await ca.ok('conversation:create', { type: 'direct', members: [b] });
      members[conversation.id] = [a, b];
      // One sender per conversation (the other side receives): enough load to span the
      // elections, few enough messages to check quickly.
      senders.push({ client: ca, conversationId: conversation.id });
    }
    const cursors = await cursorsOf(cluster.lb, STORM_USERS);
    // A device of each user on each gateway in turn (not through the balancer) watches live delivery.
    const watchers = await Promise.all(STORM_USERS.map((u, i) => connect(cluster.gateways[i % 3]!.url, u, 'watch')));

    let stop = false;
    let retries = 0;
    const storm = Promise.all(
      senders.map(async ({ client, conversationId }, s) => {
        for (let n = 0; !stop && n < 5_000; n++) retries += await sendUntilAcked(ledger, client, conversationId, `s${s}-${n}`);
      }),
    );
    const started = Date.now();
    const acksReach = async (n: number, what: string) => {
      await waitFor(`${n} acked sends (${what}; have ${ledger.size})`, () => ledger.size >= n, 60_000, 20);
      phases.push(`${what}: ${ledger.size} acks at ${Date.now() - started} ms`);
    };
    const phases: string[] = [];
    try {
      // Kill the leader of a partition stream (an election under load), then, once it is
      // back and caught up, the leader of another.
      await acksReach(30, 'before the first kill');
      const first = await nats.leaderOf(streamNames()[0]!);
      await nats.kill9(first);
      await acksReach(ledger.size + 30, `with n${first + 1} down`);
      await nats.restart(first);
      await nats.streamsCurrent(streamNames(), 60_000);
      await acksReach(ledger.size + 20, `with n${first + 1} back and current`);
      const second = await nats.leaderOf(streamNames()[1]!);
      await nats.kill9(second);
      await acksReach(ledger.size + 30, `with n${second + 1} down`);
      await nats.restart(second);
    } finally {
      stop = true;
      await storm;
    }

    phases.push(`storm over: ${ledger.size} acks at ${Date.now() - started} ms, ${retries} resends`);
    process.stdout.write(`${phases.join('\n')}\n`);
    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: cluster.lb, members, cursors });
    // Live delivery is best effort across a failover (sync fills gaps) but never doubles or invents.
    const acked = new Map(ledger.all().map((s) => [`${s.conversationId}#${s.seq}`, s.clientMsgId]));
    for (const w of watchers) {
      const seen = w.messages().map((m) => `${m.conversationId}#${m.seq}`);
      expect(seen.filter((k, i) => seen.indexOf(k) !== i)).toEqual([]);
      expect(w.messages().filter((m) => acked.get(`${m.conversationId}#${m.seq}`) !== m.clientMsgId)).toEqual([]);
    }
  });
});

function streamNames(): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => `${ns.name}_P${p}`);
}

/** A client's retry loop: resend with the same clientMsgId until the send is acked. Returns the resends. */
async function sendUntilAcked(ledger: SendLedger, client: TestClient, conversationId: string, clientMsgId: string): Promise<number> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const ack = await ledger.send(client, conversationId, clientMsgId, clientMsgId, 12_000).catch(() => undefined);
    if (ack?.ok) return attempt - 1;
    if (ack && ack.error.code !== 'UNAVAILABLE') throw new Error(`send ${clientMsgId} refused: ${ack.error.code} ${ack.error.message}`);
    // Back off a little, as a real client does, before the same send again.
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`send ${clientMsgId} was never acked`);
}

type Delivered = Record<string, Record<string, string[]>>;

/**
 * A fixed script of conversation events, one after the other, with every user online on
 * the gateway `urlOf(i)` picks. Returns what each user received live, per conversation,
 * with ids and sequence numbers replaced by their place in the script.
 */
async function runScript(urlOf: (i: number) => string, space: TestNamespace): Promise<Delivered> {
  const users = [...USERS, 'g1', 'g2'];
  const conns = new Map<string, TestClient>();
  for (const [i, u] of users.entries()) conns.set(u, await connectClient(urlOf(i), u, { deviceId: 'script' }));
  try {
    const labels = new Map<string, string>();
    /** Per conversation: its sequence numbers in the order the script made them. */
    const seqs = new Map<string, number[]>();
    const note = (conversationId: string, seq: number) => seqs.get(conversationId)!.push(seq);
    const conversations: Array<{ id: string; members: string[] }> = [];

    const add = async (creator: string, type: 'direct' | 'group', others: string[]) => {
      const { conversation } = await conns.get(creator)!.ok('conversation:create', { type, members: others, ...(type === 'group' && { title: 't' }) });
      labels.set(conversation.id, `c${labels.size}`);
      seqs.set(conversation.id, [conversation.lastSeq]);
      conversations.push({ id: conversation.id, members: [creator, ...others] });
    };
    for (const [a, b] of PAIRS) await add(a, 'direct', [b]);
    await add('g1', 'group', [PAIRS[0]![0], PAIRS[1]![1], 'g2']);

    for (const { id, members } of conversations) {
      const sent: number[] = [];
      for (let r = 0; r < 4; r++) {
        const from = members[r % members.length]!;
        const { seq } = await conns.get(from)!.ok('message:send', { conversationId: id, clientMsgId: `${labels.get(id)}-${r}`, body: `m${r}` });
        note(id, seq);
        sent.push(seq);
      }
      note(id, (await conns.get(members[0]!)!.ok('message:edit', { conversationId: id, seq: sent[0]!, body: 'edited' })).seq);
      note(id, (await conns.get(members[1]!)!.ok('reaction:add', { conversationId: id, seq: sent[0]!, emoji: '👍' })).seq);
      note(id, (await conns.get(members[1]!)!.ok('message:delete', { conversationId: id, seq: sent[1]! })).seq);
      // The end markers: each member waits for the other's, which comes after all else.
      for (const m of [members[0]!, members[1]!]) {
        note(id, (await conns.get(m)!.ok('message:send', { conversationId: id, clientMsgId: `${labels.get(id)}-end-${m}`, body: 'end' })).seq);
      }
    }
    for (const { id, members } of conversations) {
      for (const m of members) {
        const marker = `${labels.get(id)}-end-${m === members[0] ? members[1] : members[0]}`;
        await waitFor(`${m} to receive ${marker}`, () => conns.get(m)!.messages().some((e) => e.clientMsgId === marker));
      }
    }
    await caughtUp(space);

    const place = (id: string, seq: number) => seqs.get(id)!.indexOf(seq);
    const delivered: Delivered = {};
    for (const [u, c] of conns) {
      const byConversation: Record<string, string[]> = {};
      for (const e of c.received as Array<ChatEvent & { conversationId: string }>) {
        const label = labels.get(e.conversationId) ?? 'unknown';
        (byConversation[label] ??= []).push(JSON.stringify(normalize(e, e.conversationId, labels, place)));
      }
      delivered[u] = byConversation;
    }
    return delivered;
  } finally {
    for (const c of conns.values()) c.close();
  }
}

const TIMES = new Set(['sentAt', 'editedAt', 'createdAt', 'lastActivityAt', 'at']);
const SEQS = new Set(['seq', 'targetSeq', 'lastSeq', 'replyToSeq']);

/** The event with times dropped, conversation ids as labels and seqs as places in the script. */
function normalize(value: unknown, conversationId: string, labels: Map<string, string>, place: (id: string, seq: number) => number): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, conversationId, labels, place));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (TIMES.has(k)) continue;
      if (SEQS.has(k) && typeof v === 'number') out[k] = place(conversationId, v);
      else out[k] = normalize(v, conversationId, labels, place);
    }
    return out;
  }
  if (typeof value === 'string' && labels.has(value)) return labels.get(value);
  return value;
}
