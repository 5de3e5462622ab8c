import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Ack, AckResults } from '@chat/contracts';
import { readLoggedPayload } from '@chat/messaging';
import { connectClient, waitForEvents, type TestClient } from '../support/clients';
import { startCluster, type Cluster } from '../support/cluster';
import { caughtUp, query } from '../support/inspect';
import { SendLedger, cursorsOf, expectNothingLost } from '../support/ledger';
import { createNamespace, UNLIMITED, type TestNamespace } from '../support/namespace';
import { holdTableLock } from '../support/pg-lock';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

type SendAck = Ack<AckResults['message:send']>;

/**
 * Duplicate storms: one clientMsgId sent many times at once, across a reconnect, through
 * two gateways, and past JetStream's duplicate window. Whatever the route, one seq, one
 * message, and `duplicate: true` on every repeat.
 */
describe('duplicate storms', () => {
  // A one-second duplicate window, so that "past the window" is reachable in a test.
  const WINDOW_MS = 1_000;
  let ns: TestNamespace;
  let cluster: Cluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const clients: TestClient[] = [];
  const on = async (gateway: number, userId: string, deviceId: string) => {
    const c = await connectClient(cluster.gateways[gateway]!.url, userId, { deviceId });
    clients.push(c);
    return c;
  };
  const partitionOf = async (conversationId: string) =>
    (await query<{ partition: number }>(ns, 'SELECT partition FROM conversations WHERE id = $1', [conversationId]))[0]!.partition;
  const streamLastSeq = async (partition: number) => (await jsm.streams.info(`${ns.name}_P${partition}`)).state.last_seq;
  const rejected = (conversationId: string) => query<{ seq: string; code: string }>(ns, 'SELECT seq, code FROM rejected_events WHERE conversation_id = $1 ORDER BY seq', [conversationId]);
  /** Each message of a conversation as the log holds it: seq, clientMsgId and the connection that appended it. */
  const logged = async (conversationId: string) => {
    const partition = await partitionOf(conversationId);
    const entries: Array<{ seq: number; clientMsgId: string; origin: string }> = [];
    for (let seq = 1; seq <= (await streamLastSeq(partition)); seq++) {
      const m = await jsm.streams.getMessage(`${ns.name}_P${partition}`, { seq });
      if (!m) continue;
      const { raw, origin } = readLoggedPayload({ json: () => m.json(), headers: m.header });
      const event = raw as { type: string; conversationId: string; clientMsgId?: string };
      if (event?.type === 'MessageSent' && event.conversationId === conversationId) {
        entries.push({ seq, clientMsgId: event.clientMsgId!, origin: origin ?? '' });
      }
    }
    return entries;
  };
  /** Every ack of a storm of one clientMsgId: ok, one seq and sentAt, exactly `firsts` of them not marked duplicate. */
  const expectOneSeq = (acks: SendAck[], firsts: number) => {
    const oks = acks.filter((a): a is Extract<SendAck, { ok: true }> => a.ok);
    expect(oks).toHaveLength(acks.length);
    expect(new Set(oks.map((a) => `${a.seq} ${a.sentAt}`)).size).toBe(1);
    expect(oks.filter((a) => a.duplicate !== true)).toHaveLength(firsts);
    return oks[0]!.seq;
  };

  beforeAll(async () => {
    ns = createNamespace('dupstorm', { ...UNLIMITED, CHAT_DUPLICATE_WINDOW: `${WINDOW_MS}ms` });
    cluster = await startCluster(ns.env, { gateways: 2 });
    nc = await connect({ servers: ns.env.CHAT_NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await nc?.close();
    await cluster?.stop();
    await ns?.cleanup();
  });

  it('answers 50 concurrent sends of one clientMsgId from five devices with one seq, among 50 other sends, and delivers it once', async () => {
    const devices = await Promise.all(Array.from({ length: 5 }, (_, i) => on(0, 'ann', `phone${i}`)));
    const ben = await on(0, 'ben', 'laptop');
    const { conversation } = await devices[0]!.ok('conversation:create', { type: 'group', members: ['ben', 'cat'], title: 'storm' });
    const members = { [conversation.id]: ['ann', 'ben', 'cat'] };
    const cursors = await cursorsOf(cluster.gateways[0]!.url, ['ann', 'ben', 'cat']);
    const ledger = new SendLedger();

    // The storm, interleaved with distinct sends that take seqs around it.
    const storm: Array<Promise<SendAck>> = [];
    const others: Array<Promise<SendAck>> = [];
    for (let i = 0; i < 50; i++) {
      storm.push(ledger.send(devices[i % 5]!, conversation.id, 'storm-1', 'one body'));
      others.push(ledger.send(devices[(i + 2) % 5]!, conversation.id, `other-${i}`));
    }
    const seq = expectOneSeq(await Promise.all(storm), 1);
    for (const ack of await Promise.all(others)) expect(ack.ok).toBe(true);
    expect(ledger.size).toBe(51);

    // Live: ben gets 51 messages, the storm's once; the log holds one entry of it.
    const live = await waitForEvents(ben, 51, (e) => e.type === 'message' && e.conversationId === conversation.id);
    expect(live.filter((m) => m.type === 'message' && m.clientMsgId === 'storm-1').map((m) => m.seq)).toEqual([seq]);
    expect((await logged(conversation.id)).filter((e) => e.clientMsgId === 'storm-1').map((e) => e.seq)).toEqual([seq]);
    await caughtUp(ns);
    expect(await rejected(conversation.id)).toEqual([]);
    await expectNothingLost(ns, ledger, { url: cluster.gateways[0]!.url, members, cursors });
  });

  it('appends once what a client sent, lost the connection before the ack, and sent again after reconnecting', async () => {
    const first = await on(0, 'dan', 'phone');
    await on(1, 'eve', 'phone');
    const { conversation } = await first.ok('conversation:create', { type: 'direct', members: ['eve'] });
    const members = { [conversation.id]: ['dan', 'eve'] };
    const cursors = await cursorsOf(cluster.gateways[0]!.url, ['dan', 'eve']);
    const ledger = new SendLedger();

    // 30 sends in flight, then the connection drops before any ack can come back.
    const ids = Array.from({ length: 30 }, (_, i) => `r-${i}`);
    const lost = ids.map((id) => first.request('message:send', { conversationId: conversation.id, clientMsgId: id, body: id }, 5_000));
    const firstOrigin = `gw1/${first.socket.id}`;
    first.socket.disconnect();
    for (const answer of await Promise.allSettled(lost)) {
      // No ack reaches a closed socket: the sender cannot know what the server did.
      expect(answer.status).toBe('rejected');
    }

    // The same device comes back (through the other gateway) and sends everything again.
    const again = await on(1, 'dan', 'phone');
    const acks = await Promise.all(ids.map((id) => ledger.send(again, conversation.id, id)));
    for (const ack of acks) expect(ack.ok).toBe(true);

    // Each id's first entry in the log is the message; a resend is `duplicate: true` exactly
    // when the lost send got there first. A resend that came past JetStream's window is in
    // the log again (the gateway publishes while it looks for an original): the projector
    // refused every such copy, so each id is stored and shown once.
    const log = await logged(conversation.id);
    expect([...new Set(log.map((e) => e.clientMsgId))].sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      const entry = log.find((e) => e.clientMsgId === id)!;
      const ack = acks[i] as Extract<SendAck, { ok: true }>;
      expect({ id, seq: ack.seq, duplicate: ack.duplicate === true }).toEqual({ id, seq: entry.seq, duplicate: entry.origin === firstOrigin });
    }
    const copies = ids.flatMap((id) => log.filter((e) => e.clientMsgId === id).slice(1).map((e) => e.seq)).sort((a, b) => a - b);
    await caughtUp(ns);
    expect((await rejected(conversation.id)).map((r) => [Number(r.seq), r.code])).toEqual(copies.map((seq) => [seq, 'DUPLICATE']));
    await expectNothingLost(ns, ledger, { url: cluster.gateways[1]!.url, members, cursors });
  });

  it('answers one clientMsgId sent at once from six devices on two gateways with one seq, and each recipient device gets it once', async () => {
    const fay = await Promise.all(Array.from({ length: 6 }, (_, i) => on(i % 2, 'fay', `dev${i}`)));
    const gus = [await on(0, 'gus', 'a'), await on(1, 'gus', 'b')];
    const { conversation } = await fay[0]!.ok('conversation:create', { type: 'direct', members: ['gus'] });
    const members = { [conversation.id]: ['fay', 'gus'] };
    const cursors = await cursorsOf(cluster.gateways[1]!.url, ['fay', 'gus']);
    const ledger = new SendLedger();

    // 20 ids, each sent by all six devices at the same time: 120 sends, 20 messages.
    const ids = Array.from({ length: 20 }, (_, i) => `both-${i}`);
    const acks = await Promise.all(ids.map((id) => Promise.all(fay.map((d) => ledger.send(d, conversation.id, id)))));
    const seqs = acks.map((storm) => expectOneSeq(storm, 1));
    expect(new Set(seqs).size).toBe(20);

    for (const device of gus) {
      const got = await waitForEvents(device, 20, (e) => e.type === 'message' && e.conversationId === conversation.id);
      expect(got.map((m) => m.seq)).toEqual([...seqs].sort((a, b) => a - b));
    }
    await caughtUp(ns);
    expect(await rejected(conversation.id)).toEqual([]);
    await expectNothingLost(ns, ledger, { url: cluster.gateways[0]!.url, members, cursors });
  });

  it('answers resends past the duplicate window with the original seq while the projection lags behind that window', async () => {
    const hal = await on(0, 'hal', 'phone');
    const hal2 = await on(1, 'hal', 'tablet');
    await on(1, 'ivy', 'phone');
    const { conversation } = await hal.ok('conversation:create', { type: 'direct', members: ['ivy'] });
    const members = { [conversation.id]: ['hal', 'ivy'] };
    const cursors = await cursorsOf(cluster.gateways[0]!.url, ['hal', 'ivy']);
    const partition = await partitionOf(conversation.id);
    const ledger = new SendLedger();

    // The projector cannot commit: the read model will not know the original for a while.
    const lock = await holdTableLock(ns, 'checkpoints');
    let resends: Array<Promise<SendAck>> = [];
    try {
      const original = await ledger.send(hal, conversation.id, 'late', 'the original');
      if (!original.ok) throw new Error(`the original send failed: ${original.error.code}`);
      // Resend until one outlives JetStream's window and reaches the log as a copy...
      await waitFor('a resend past the duplicate window to append a copy', async () => {
        resends.push(ledger.send(hal, conversation.id, 'late', 'the original', 30_000));
        return (await streamLastSeq(partition)) > original.seq;
      }, 20_000, 100);
      // ...then a storm of them from both gateways, while the projection still lags.
      resends = resends.concat(Array.from({ length: 40 }, (_, i) => ledger.send(i % 2 ? hal : hal2, conversation.id, 'late', 'the original', 30_000)));
      await lock.release();
      // Every resend: the original's seq and sentAt, marked duplicate.
      expect(expectOneSeq([original, ...(await Promise.all(resends))], 1)).toBe(original.seq);
    } finally {
      await lock.release();
      await Promise.allSettled(resends);
    }

    // The log holds the copy; the projector refused it, nobody sees it twice.
    await caughtUp(ns);
    const copies = (await logged(conversation.id)).map((e) => e.seq);
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect((await rejected(conversation.id)).map((r) => [Number(r.seq), r.code])).toEqual(copies.slice(1).map((s) => [s, 'DUPLICATE']));
    await expectNothingLost(ns, ledger, { url: cluster.gateways[1]!.url, members, cursors });
  });
});
