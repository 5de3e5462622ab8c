import type { Message, Presence } from '@chat/contracts';
import { connectClient, waitForEvents, type TestClient } from '../support/clients';
import { useCluster } from '../support/cluster';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

async function nodeView(url: string) {
  const res = await fetch(`${url}/v1/admin/node`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return (await res.json()) as { nodeId: string; connections: number; rooms: string[]; receivedByConversation: Record<string, number> };
}

/** The messages of one conversation a client received, as [clientMsgId, seq]. */
const got = (c: TestClient, conversationId: string) => c.messages().filter((m) => m.conversationId === conversationId);

describe('three gateways, one projector, HAProxy in front', () => {
  const sys = useCluster('multigw', UNLIMITED);
  const { connect } = sys;

  it('delivers 1:1, 5-member and 150-member conversations once to every online device, and nothing to nodes without members', async () => {
    // 1:1 on gw1 and gw2 (bob on both); a 5-member group on gw2 and gw3; 150 members on all three.
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const bobLaptop = await connect(0, 'bob', 'laptop');
    const five = await Promise.all(['f1', 'f2', 'f3', 'f4', 'f5'].map((u, i) => connect(1 + (i % 2), u)));
    const many = await Promise.all(Array.from({ length: 150 }, (_, i) => connect(i % 3, `m${i}`)));

    const { conversation: direct } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const { conversation: group5 } = await five[0]!.ok('conversation:create', { type: 'group', members: ['f2', 'f3', 'f4', 'f5'] });
    const { conversation: big } = await many[0]!.ok('conversation:create', { type: 'group', members: many.slice(1, 100).map((c) => c.userId) });
    await many[0]!.ok('conversation:add_members', { conversationId: big.id, userIds: many.slice(100).map((c) => c.userId) });

    const sent = { direct: [] as number[], group5: [] as number[], big: [] as number[] };
    for (let i = 0; i < 10; i++) {
      sent.direct.push((await (i % 2 ? bob : alice).ok('message:send', { conversationId: direct.id, clientMsgId: `d${i}`, body: `d${i}` })).seq);
      sent.group5.push((await five[i % 5]!.ok('message:send', { conversationId: group5.id, clientMsgId: `f${i}`, body: `f${i}` })).seq);
      sent.big.push((await many[(i * 37) % 150]!.ok('message:send', { conversationId: big.id, clientMsgId: `b${i}`, body: `b${i}` })).seq);
    }
    // Every device gets every message of its conversations but those it sent itself, once, in order.
    const expectAll = async (c: TestClient, conversationId: string, seqs: number[], own: number[]) => {
      const want = seqs.filter((s) => !own.includes(s));
      const seen = await waitFor(`${c.userId} to get ${want.length} messages`, () => {
        const m = got(c, conversationId);
        return m.length >= want.length ? m : undefined;
      });
      expect({ user: c.userId, seqs: seen.map((m: Message) => m.seq) }).toEqual({ user: c.userId, seqs: want });
    };
    const ownSeqs = (c: TestClient, seqs: number[], ids: string[]) => seqs.filter((_, i) => ids[i] === c.userId);
    const directSenders = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'bob' : 'alice'));
    await expectAll(alice, direct.id, sent.direct, ownSeqs(alice, sent.direct, directSenders));
    // bob's phone sent its own; his laptop gets all ten.
    await expectAll(bob, direct.id, sent.direct, ownSeqs(bob, sent.direct, directSenders));
    await expectAll(bobLaptop, direct.id, sent.direct, []);
    for (const c of five) await expectAll(c, group5.id, sent.group5, ownSeqs(c, sent.group5, Array.from({ length: 10 }, (_, i) => `f${(i % 5) + 1}`)));
    for (const c of many) await expectAll(c, big.id, sent.big, ownSeqs(c, sent.big, Array.from({ length: 10 }, (_, i) => `m${(i * 37) % 150}`)));

    // A later message per conversation is the sentinel: anything doubled would have come before it.
    const last = await alice.ok('message:send', { conversationId: direct.id, clientMsgId: 'last', body: 'last' });
    await waitFor('the sentinel', () => got(bobLaptop, direct.id).some((m) => m.seq === last.seq));
    expect(got(bobLaptop, direct.id)).toHaveLength(11);

    // What each node received: nothing for conversations it holds no member of.
    const [gw1, gw2, gw3] = await Promise.all(sys.cluster.gateways.map((g) => nodeView(g.url)));
    expect([gw1, gw2, gw3].map((n) => n!.receivedByConversation[direct.id] ?? 0).map((n) => n > 0)).toEqual([true, true, false]);
    expect([gw1, gw2, gw3].map((n) => n!.receivedByConversation[group5.id] ?? 0).map((n) => n > 0)).toEqual([false, true, true]);
    expect([gw1, gw2, gw3].map((n) => n!.receivedByConversation[big.id] ?? 0).map((n) => n > 0)).toEqual([true, true, true]);
    // The large conversation reaches each node once per event through its room, not once per
    // member; the two events that made members join (create, add) also came on the node's own subject.
    for (const n of [gw1, gw2, gw3]) {
      expect(n!.rooms).toContain(big.id);
      expect(n!.receivedByConversation[big.id]).toBeLessThanOrEqual(10 + 2 + 2);
    }
  });

  it('turns a killed gateway\'s users offline within 30 s; they reconnect elsewhere and sync misses nothing', async () => {
    const watcher = await connect(0, 'watcher');
    const victims = await Promise.all(['v1', 'v2', 'v3'].map((u) => connect(2, u)));
    const sender = await connect(1, 'sender');
    // The watcher shares the group: presence is for users who share a conversation.
    const { conversation } = await sender.ok('conversation:create', { type: 'group', members: ['v1', 'v2', 'v3', 'watcher'] });
    for (const v of victims) await waitForEvents(v, 1, (e) => e.type === 'conversation');
    const cursors = await Promise.all(victims.map(async (v) => (await v.ok('sync', {})).next));
    const { presence } = await watcher.ok('presence:subscribe', { userIds: ['v1', 'v2', 'v3'] });
    expect(presence.map((p: Presence) => p.status)).toEqual(['online', 'online', 'online']);

    const killedAt = Date.now();
    await sys.cluster.gateways[2]!.kill9();
    const sentMeanwhile: number[] = [];
    for (let i = 0; i < 5; i++) sentMeanwhile.push((await sender.ok('message:send', { conversationId: conversation.id, clientMsgId: `away${i}`, body: `away ${i}` })).seq);
    await waitFor('the three offline', () => ['v1', 'v2', 'v3'].every((u) => watcher.presence.some((p) => p.userId === u && p.status === 'offline')), 40_000, 100);
    expect(Date.now() - killedAt).toBeLessThan(30_000 + 1_000);

    // Reconnect through the load balancer (which routes around the dead gateway) and sync.
    for (const [i, v] of victims.entries()) {
      v.close();
      const again = await connectClient(sys.cluster.lb, v.userId);
      sys.clients.push(again);
      const r = await again.ok('sync', { since: cursors[i]!, limit: 100 });
      expect(r.events.filter((e) => e.type === 'message').map((e) => e.seq)).toEqual(sentMeanwhile);
    }
  });

  it('keeps long-polling clients on their gateway through HAProxy\'s cookie', async () => {
    const poller = await connectClient(sys.cluster.lb, 'poller', { transports: ['polling'] });
    sys.clients.push(poller);
    const peer = await connect(0, 'peer');
    const { conversation } = await peer.ok('conversation:create', { type: 'direct', members: ['poller'] });
    for (let i = 0; i < 5; i++) await peer.ok('message:send', { conversationId: conversation.id, clientMsgId: `p${i}`, body: `p${i}` });
    await waitForEvents(poller, 5, (e) => e.type === 'message');
    const back = await poller.ok('message:send', { conversationId: conversation.id, clientMsgId: 'back', body: 'over polling' });
    await waitFor('the reply', () => got(peer, conversation.id).some((m) => m.seq === back.seq));
  });
});
