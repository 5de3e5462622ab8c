import type { ChatEvent } from '@chat/contracts';
import { connectClient, type TestClient } from '../support/clients';
import { startCluster, type Cluster } from '../support/cluster';
import { caughtUp } from '../support/inspect';
import { SendLedger, cursorsOf, expectNothingLost, syncAll } from '../support/ledger';
import { createNamespace, UNLIMITED, type TestNamespace } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

type MessageEvent = Extract<ChatEvent, { type: 'message' }>;
const isMessage = (e: ChatEvent): e is MessageEvent => e.type === 'message';
const key = (m: { conversationId: string; seq: number }) => `${m.conversationId}#${m.seq}`;

/**
 * A gateway SIGKILLed while a client streams sends through it: nothing acked is lost,
 * nothing retried shows twice, and its clients catch up elsewhere from their cursors.
 */
describe('a gateway killed mid-stream', () => {
  let ns: TestNamespace;
  let cluster: Cluster;
  const clients: TestClient[] = [];
  const open = async (url: string, userId: string, deviceId: string) => {
    const c = await connectClient(url, userId, { deviceId });
    clients.push(c);
    return c;
  };
  /** Through the load balancer, which takes a while to notice the dead gateway: retry until a live one answers. */
  const reconnect = (userId: string, deviceId: string) =>
    waitFor(`${userId} to reconnect through the load balancer`, () => open(cluster.lb, userId, deviceId).catch(() => undefined), 30_000, 200);

  beforeAll(async () => {
    ns = createNamespace('gwcrash', UNLIMITED);
    cluster = await startCluster(ns.env, { gateways: 3 });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    await ns?.cleanup();
  });

  it('keeps every acked send, stores each retried one once, and the clients of the dead gateway miss nothing through sync', async () => {
    const [gw1, gw2] = cluster.gateways;
    const alice = await open(gw1!.url, 'alice', 'phone');
    const { conversation: direct } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const { conversation: group } = await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'], title: 'crash' });
    const members = { [direct.id]: ['alice', 'bob'], [group.id]: ['alice', 'bob', 'carol'] };
    const cursors = await cursorsOf(cluster.lb, ['alice', 'bob', 'carol']);

    // bob runs the client loop on the gateway that will die: connect, sync from the stored cursor, store next, apply live events.
    const bob = await open(gw1!.url, 'bob', 'phone');
    const bobCursor = (await syncAll(bob, cursors.bob)).next;
    // carol is on another gateway and sees the whole stream live.
    const carol = await open(gw2!.url, 'carol', 'phone');

    // alice streams sends with 20 in flight; after 100 acks, ten more leave and the gateway dies at once.
    const ledger = new SendLedger();
    const ids: string[] = [];
    const conversationOf = new Map<string, string>();
    const inFlight = new Set<Promise<unknown>>();
    const sendNext = () => {
      const id = `m${ids.length}`;
      conversationOf.set(id, ids.length % 2 ? group.id : direct.id);
      ids.push(id);
      const p = ledger.send(alice, conversationOf.get(id)!, id, id, 5_000).catch(() => undefined);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    while (ledger.size < 100) {
      while (inFlight.size < 20) sendNext();
      await Promise.race(inFlight);
    }
    for (let i = 0; i < 10; i++) sendNext();
    const killed = gw1!.kill9();
    // Ten more leave after the SIGKILL, before alice can notice: these can never be acked.
    for (let i = 0; i < 10; i++) sendNext();
    await killed;
    await Promise.all(inFlight);
    const ackedBeforeKill = new Set(ledger.all().map((s) => s.clientMsgId));
    const unacked = ids.filter((id) => !ackedBeforeKill.has(id));
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(100);
    expect(unacked.length).toBeGreaterThanOrEqual(10);
    const bobLive = bob.received.filter(isMessage);

    // bob comes back elsewhere and syncs from his stored cursor; alice comes back and retries
    // what she has no ack for, with the same ids.
    const bob2 = await reconnect('bob', 'phone');
    const bobSynced = (await syncAll(bob2, bobCursor)).events.filter(isMessage);
    const alice2 = await reconnect('alice', 'phone');
    for (const id of unacked) {
      const ack = await ledger.send(alice2, conversationOf.get(id)!, id);
      expect({ id, ok: ack.ok }).toEqual({ id, ok: true });
    }
    expect(ledger.size).toBe(ids.length);

    // What bob had live before the crash, what the sync gave, and what came live since: nothing is missing.
    const bobMissing = () => {
      const seen = new Set([...bobLive, ...bobSynced, ...bob2.received.filter(isMessage)].map(key));
      return ledger.all().filter((s) => !seen.has(key(s)));
    };
    await waitFor('bob to have every acked message', () => bobMissing().length === 0).catch(() => undefined);
    expect(bobMissing()).toEqual([]);

    // carol, on a gateway that lived, got every group message live, once, in seq order.
    const groupSeqs = ledger.all().filter((s) => s.conversationId === group.id).map((s) => s.seq).sort((a, b) => a - b);
    await waitFor('carol to get every group message live', () => carol.received.filter(isMessage).length >= groupSeqs.length);
    expect(carol.received.filter(isMessage).map((m) => m.seq)).toEqual(groupSeqs);

    await caughtUp(ns);
    // Straight to a live gateway: the load balancer may still try the dead one for a few seconds.
    await expectNothingLost(ns, ledger, { url: gw2!.url, members, cursors });
  });
});
