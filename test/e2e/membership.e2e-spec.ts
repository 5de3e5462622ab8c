import { waitForEvents } from '../support/clients';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

describe('membership rules', () => {
  const sys = useSystem('members');

  it('refuses a non-member sending, reading history, marking read or adding itself, and sends it nothing', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const mallory = await sys().connect('mallory');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const id = conversation.id;
    const sent = await alice.ok('message:send', { conversationId: id, clientMsgId: 'a1', body: 'members only' });

    const refusals = await Promise.all([
      mallory.request('message:send', { conversationId: id, clientMsgId: 'm1', body: 'let me in' }),
      mallory.request('history', { conversationId: id }),
      mallory.request('read', { conversationId: id, seq: sent.seq }),
      mallory.request('conversation:add_members', { conversationId: id, userIds: ['mallory'] }),
      mallory.request('conversation:remove_members', { conversationId: id, userIds: ['bob'] }),
    ]);
    for (const r of refusals) expect(r).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });

    // A later message reaches bob; by then anything sent to mallory would have arrived.
    const later = await alice.ok('message:send', { conversationId: id, clientMsgId: 'a2', body: 'still members only' });
    await waitForEvents(bob, 1, (e) => e.type === 'message' && e.seq === later.seq);
    expect(mallory.received).toEqual([]);
    const history = await alice.ok('history', { conversationId: id });
    expect(history.messages.map((m) => m.clientMsgId)).toEqual(['a1', 'a2']);
    const snap = await mallory.ok('sync', {});
    expect(snap.conversations).toEqual([]);
    expect(snap.events).toEqual([]);
  });

  it('answers a conversation that does not exist as one the caller is not in (FORBIDDEN): existence is not told', async () => {
    const alice = await sys().connect('alice');
    for (const [event, payload] of [
      ['message:send', { conversationId: 'g_nope', clientMsgId: 'x', body: 'hello?' }],
      ['history', { conversationId: 'g_nope' }],
    ] as const) {
      expect(await alice.request(event, payload)).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'not a member of this conversation' } });
    }
  });

  it('sends a removed member its removal and nothing after, and refuses its sends', async () => {
    const alice = await sys().connect('ann');
    const bob = await sys().connect('ben');
    const carol = await sys().connect('cat');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['ben', 'cat'] });
    const id = conversation.id;
    await waitForEvents(carol, 1, (e) => e.type === 'conversation');
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'before', body: 'carol sees this' });
    await waitForEvents(carol, 1, (e) => e.type === 'message');

    const removed = await alice.ok('conversation:remove_members', { conversationId: id, userIds: ['cat'] });
    const [removal] = await waitForEvents(carol, 1, (e) => e.type === 'conversation' && e.change === 'members_removed');
    expect(removal).toMatchObject({ conversationId: id, seq: removed.seq, userIds: ['cat'] });

    const after = await alice.ok('message:send', { conversationId: id, clientMsgId: 'after', body: 'carol must not see this' });
    expect(await carol.request('message:send', { conversationId: id, clientMsgId: 'c1', body: 'am I still here?' })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'FORBIDDEN' }),
    });
    expect(await carol.request('history', { conversationId: id })).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    await waitForEvents(bob, 1, (e) => e.type === 'message' && e.seq === after.seq);
    expect(carol.messages().map((m) => m.clientMsgId)).toEqual(['before']);
    const memberList = await bob.ok('conversation:list', {});
    expect(memberList.conversations.find((c) => c.id === id)?.memberCount).toBe(2);
  });

  it('lets a member leave, and only the creator remove others', async () => {
    const owner = await sys().connect('olga');
    const peer = await sys().connect('pete');
    await sys().connect('quin');
    const { conversation } = await owner.ok('conversation:create', { type: 'group', members: ['pete', 'quin'] });
    expect(await peer.request('conversation:remove_members', { conversationId: conversation.id, userIds: ['quin'] })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'FORBIDDEN' }),
    });
    const left = await peer.ok('conversation:remove_members', { conversationId: conversation.id, userIds: ['pete'] });
    expect(left.seq).toBeGreaterThan(conversation.lastSeq);
    const added = await owner.ok('conversation:add_members', { conversationId: conversation.id, userIds: ['rita', 'quin'] });
    const info = await owner.ok('conversation:list', {});
    expect(info.conversations.find((c) => c.id === conversation.id)).toMatchObject({ memberCount: 3, lastSeq: added.seq });
  });

  it('keeps direct conversations to their two members', async () => {
    const a = await sys().connect('dora');
    await sys().connect('eddy');
    const { conversation } = await a.ok('conversation:create', { type: 'direct', members: ['eddy'] });
    expect(await a.request('conversation:add_members', { conversationId: conversation.id, userIds: ['fred'] })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'FORBIDDEN' }),
    });
  });
});
