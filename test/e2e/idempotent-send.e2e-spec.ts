import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { waitForEvents } from '../support/clients';
import { footprint, query } from '../support/inspect';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('idempotent sends', () => {
  // A one-second duplicate window, so "after the window" is reachable in a test.
  const sys = useSystem('idem', { CHAT_DUPLICATE_WINDOW: '1s' });

  it('answers 20 concurrent resends of one clientMsgId with the original seq and delivers it once', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const acks = await Promise.all(
      Array.from({ length: 20 }, () => alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'same', body: 'once' })),
    );
    const seqs = new Set(acks.map((a) => a.seq));
    expect(seqs.size).toBe(1);
    expect(acks.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(new Set(acks.map((a) => a.sentAt)).size).toBe(1);

    const marker = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'marker', body: 'after' });
    await waitForEvents(bob, 1, (e) => e.type === 'message' && e.seq === marker.seq);
    expect(bob.messages().filter((m) => m.clientMsgId === 'same')).toHaveLength(1);
    const history = await bob.ok('history', { conversationId: conversation.id });
    expect(history.messages.map((m) => m.clientMsgId)).toEqual(['same', 'marker']);
  });

  it('answers a resend long after the JetStream duplicate window from the read model; its copy in the log is refused and shown nowhere', async () => {
    const alice = await sys().connect('carol');
    await sys().connect('dave');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['dave'] });
    const first = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'late', body: 'original' });
    await waitFor('the message projected', async () => (await alice.ok('history', { conversationId: conversation.id })).messages.length === 1);
    // Past the 1 s window (and its purge timer): JetStream alone would now append a copy.
    const windowOver = Date.now() + 2_500;
    await waitFor('the duplicate window to pass', () => Date.now() > windowOver, 10_000, 100);

    const before = await footprint(sys().ns);
    const again = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'late', body: 'original' });
    expect(again).toEqual({ ok: true, seq: first.seq, sentAt: first.sentAt, duplicate: true });
    // The gateway published while it looked the original up (no round trip before the
    // publish): the log holds a copy, which the projector refuses at its place.
    const [{ partition }] = await query<{ partition: number }>(sys().ns, 'SELECT partition FROM conversations WHERE id = $1', [conversation.id]);
    const grown = (counts: Record<string, number>) => ({ ...counts, [`stream P${partition}`]: counts[`stream P${partition}`]! + 1, rejected_events: counts.rejected_events! + 1 });
    await waitFor('the copy refused', async () => (await footprint(sys().ns)).rejected_events === before.rejected_events! + 1);
    expect(await footprint(sys().ns)).toEqual(grown(before));
    expect((await alice.ok('history', { conversationId: conversation.id })).messages.map((m) => m.seq)).toEqual([first.seq]);
  });

  it('never shows twice a copy that reached the log outside the duplicate window', async () => {
    const alice = await sys().connect('erin');
    const frank = await sys().connect('frank');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['frank'] });
    const first = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'twice', body: 'one' });
    const [{ partition }] = await query<{ partition: number }>(sys().ns, 'SELECT partition FROM conversations WHERE id = $1', [conversation.id]);

    // What a resend racing past both checks would append: the same (sender, clientMsgId), another msg id.
    const nc = await connect({ servers: sys().ns.env.CHAT_NATS_URL });
    const copy = await jetstream(nc).publish(
      `${sys().ns.name}.p${partition}.conv.${conversation.id}`,
      JSON.stringify({ type: 'MessageSent', v: 1, conversationId: conversation.id, senderId: 'erin', clientMsgId: 'twice', body: 'one', at: new Date().toISOString() }),
    );
    await nc.close();
    const marker = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'next', body: 'two' });
    expect(marker.seq).toBeGreaterThan(copy.seq);
    await waitForEvents(frank, 1, (e) => e.type === 'message' && e.seq === marker.seq);

    expect(frank.messages().map((m) => [m.clientMsgId, m.seq])).toEqual([['twice', first.seq], ['next', marker.seq]]);
    const history = await frank.ok('history', { conversationId: conversation.id });
    expect(history.messages.map((m) => m.seq)).toEqual([first.seq, marker.seq]);
    const rejected = await query(sys().ns, 'SELECT code FROM rejected_events WHERE seq = $1 AND partition = $2', [copy.seq, partition]);
    expect(rejected).toEqual([{ code: 'DUPLICATE' }]);
  });

  it('keeps the sends of two users apart whose ids would join into the same string (x + "v:hi" and "x:v" + "hi")', async () => {
    const x = await sys().connect('x');
    const xv = await sys().connect('x:v');
    const { conversation } = await x.ok('conversation:create', { type: 'direct', members: ['x:v'] });
    const first = await x.ok('message:send', { conversationId: conversation.id, clientMsgId: 'v:hi', body: 'from x' });
    const second = await xv.ok('message:send', { conversationId: conversation.id, clientMsgId: 'hi', body: 'from x:v' });
    expect(second.duplicate).toBeUndefined();
    expect(second.seq).not.toBe(first.seq);
    await waitForEvents(x, 1, (e) => e.type === 'message' && e.seq === second.seq);
    const history = await x.ok('history', { conversationId: conversation.id });
    expect(history.messages.map((m) => [m.senderId, m.body])).toEqual([['x', 'from x'], ['x:v', 'from x:v']]);
  });

  it('refuses reusing a clientMsgId in another conversation', async () => {
    const alice = await sys().connect('gus');
    await sys().connect('hal');
    await sys().connect('ivy');
    const one = await alice.ok('conversation:create', { type: 'direct', members: ['hal'] });
    const two = await alice.ok('conversation:create', { type: 'direct', members: ['ivy'] });
    await alice.ok('message:send', { conversationId: one.conversation.id, clientMsgId: 'reused', body: 'a' });
    await waitFor('the first send projected', async () => (await alice.ok('history', { conversationId: one.conversation.id })).messages.length === 1);
    expect(await alice.request('message:send', { conversationId: two.conversation.id, clientMsgId: 'reused', body: 'b' })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'BAD_REQUEST' }),
    });
  });
});
