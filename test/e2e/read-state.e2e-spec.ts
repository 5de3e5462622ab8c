import type { ConversationSummary, Message, ReadMarker } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { caughtUp } from '../support/inspect';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { holdTableLock } from '../support/pg-lock';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('read markers and unread counts', () => {
  const sys = useSystem('readstate', UNLIMITED);

  it('leaves unread 20 after reading 100 of 120, ignores a marker moved back, and shows markers live', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob', { deviceId: 'phone' });
    const carol = await sys().connect('carol');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'] });
    const id = conversation.id;
    const seqs: number[] = [];
    for (let i = 0; i < 120; i++) seqs.push((await alice.ok('message:send', { conversationId: id, clientMsgId: `m${i}`, body: `m${i}` })).seq);
    await waitForEvents(bob, 120, (e) => e.type === 'message');
    const bobSince = (await bob.ok('sync', {})).next;

    const summary = async () => (await bob.ok('conversation:list', {})).conversations.find((c) => c.id === id)!;
    expect(await summary()).toMatchObject({ unread: 120, lastReadSeq: 0 });

    await bob.ok('read', { conversationId: id, seq: seqs[99]! });
    const [marker] = (await waitForEvents(carol, 1, (e) => e.type === 'read')) as ReadMarker[];
    expect(marker).toEqual({ type: 'read', conversationId: id, userId: 'bob', seq: seqs[99] });
    await waitFor('unread 20', async () => (await summary()).unread === 20);
    expect(await summary()).toMatchObject({ unread: 20, lastReadSeq: seqs[99] });

    // Backwards, from another device that never sent a marker: ignored.
    const bobLaptop = await sys().connect('bob', { deviceId: 'laptop' });
    expect(await bobLaptop.ok('read', { conversationId: id, seq: seqs[49]! })).toEqual({ ok: true });
    // A later forward marker is the sentinel: once carol has it, the backwards one would have come before.
    await bob.ok('read', { conversationId: id, seq: seqs[109]! });
    await waitForEvents(carol, 2, (e) => e.type === 'read');
    expect(carol.received.filter((e) => e.type === 'read').map((e) => (e as ReadMarker).seq)).toEqual([seqs[99], seqs[109]]);
    await waitFor('unread 10', async () => (await summary()).unread === 10);
    expect(await summary()).toMatchObject({ lastReadSeq: seqs[109] });

    // Alice's own count: she read nothing, but all 120 are her own; the reader's other devices see its markers in sync.
    const mine = (await alice.ok('conversation:list', {})).conversations.find((c) => c.id === id)!;
    expect(mine).toMatchObject({ unread: 0, lastReadSeq: 0 });
    const synced = await bob.ok('sync', { since: bobSince });
    expect(synced.events.filter((e) => e.type === 'read')).toEqual([
      { type: 'read', conversationId: id, userId: 'bob', seq: seqs[99] },
      { type: 'read', conversationId: id, userId: 'bob', seq: seqs[109] },
    ]);
    expect((await carol.ok('sync', { since: bobSince })).events.filter((e) => e.type === 'read')).toEqual([]);
  });

  it('clamps a marker past the end to the last message: all read', async () => {
    const alice = await sys().connect('ann');
    const bob = await sys().connect('ben');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['ben'] });
    await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'x', body: 'x' });
    await waitForEvents(bob, 1, (e) => e.type === 'message');
    await bob.ok('read', { conversationId: conversation.id, seq: 1_000_000 });
    await waitFor('unread 0', async () => (await bob.ok('conversation:list', {})).conversations[0]?.unread === 0);
  });

  it("never counts a user's own messages in its unread: 0 after reading and replying, 0 after sending 806, wherever unread is shown", async () => {
    const ann = await sys().connect('own-ann');
    const ben = await sys().connect('own-ben');
    const group = (await ann.ok('conversation:create', { type: 'group', members: ['own-ben', 'own-cal'] })).conversation.id;
    const direct = (await ann.ok('conversation:create', { type: 'direct', members: ['own-ben'] })).conversation.id;
    let last = 0;
    for (let i = 0; i < 3; i++) last = (await ben.ok('message:send', { conversationId: group, clientMsgId: `b${i}`, body: `from ben ${i}` })).seq;
    await waitForEvents(ann, 3, (e) => e.type === 'message');
    await ann.ok('read', { conversationId: group, seq: last });
    await ann.ok('message:send', { conversationId: group, clientMsgId: 'reply', body: 'read it all, replying' });
    for (let i = 0; i < 806; i++) await ann.ok('message:send', { conversationId: direct, clientMsgId: `d${i}`, body: `to ben ${i}` });
    await caughtUp(sys().ns);

    const unread = (list: ConversationSummary[]) => Object.fromEntries(list.map((c) => [c.id === group ? 'group' : 'direct', c.unread]));
    const admin = async (path: string) => (await fetch(`${sys().app.url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // Ann: everything from others is read, the rest is her own.
    expect(unread((await ann.ok('conversation:list', {})).conversations)).toEqual({ group: 0, direct: 0 });
    expect(unread((await ann.ok('sync', {})).conversations!)).toEqual({ group: 0, direct: 0 });
    expect(unread((await admin('/v1/admin/users/own-ann/conversations')).conversations)).toEqual({ group: 0, direct: 0 });
    // Ben read nothing: ann's 806 and her reply, not his own three; cal: all four.
    expect(unread((await ben.ok('conversation:list', {})).conversations)).toEqual({ group: 1, direct: 806 });
    const members = (await admin(`/v1/admin/conversations/${group}`)).members as Array<{ userId: string; unread: number }>;
    expect(Object.fromEntries(members.map((m) => [m.userId, m.unread]))).toEqual({ 'own-ann': 0, 'own-ben': 1, 'own-cal': 4 });

    // Ben reads up to his own last message (before ann's reply): still 1 in the group.
    await ben.ok('read', { conversationId: group, seq: last });
    expect(unread((await ben.ok('conversation:list', {})).conversations)).toEqual({ group: 1, direct: 806 });
  });

  it("answers a connection's history, sync and conversation:list with what its acked commands did, every time", async () => {
    const ann = await sys().connect('ryw-ann');
    const ben = await sys().connect('ryw-ben');
    const id = (await ann.ok('conversation:create', { type: 'group', members: ['ryw-ben'] })).conversation.id;
    // Send, then at once history on the same connection: the message is there, 50 times in a row.
    for (let i = 0; i < 50; i++) {
      const { seq } = await ann.ok('message:send', { conversationId: id, clientMsgId: `h${i}`, body: `history ${i}` });
      const { messages } = await ann.ok('history', { conversationId: id, limit: 1 });
      expect({ i, seqs: messages.map((m) => m.seq) }).toEqual({ i, seqs: [seq] });
    }
    let since = (await ann.ok('sync', {})).next;
    for (let i = 0; i < 10; i++) {
      const { seq } = await ann.ok('message:send', { conversationId: id, clientMsgId: `s${i}`, body: `sync ${i}` });
      const synced = await ann.ok('sync', { since });
      // After the list check's message of the round before, if any: the send just acked is the last event.
      expect({ i, last: (synced.events[synced.events.length - 1] as Message | undefined)?.seq }).toEqual({ i, last: seq });
      since = synced.next;
      const { seq: other } = await ann.ok('message:send', { conversationId: id, clientMsgId: `l${i}`, body: `list ${i}` });
      const [summary] = (await ann.ok('conversation:list', { limit: 1 })).conversations;
      expect({ i, lastSeq: summary!.lastSeq, last: summary!.lastMessage?.seq }).toEqual({ i, lastSeq: other, last: other });
    }
    // A read marker: the reader's next list shows it moved.
    for (let i = 0; i < 10; i++) {
      const { seq } = await ben.ok('message:send', { conversationId: id, clientMsgId: `r${i}`, body: `read ${i}` });
      await ann.ok('read', { conversationId: id, seq });
      const [summary] = (await ann.ok('conversation:list', { limit: 1 })).conversations;
      expect({ i, lastReadSeq: summary!.lastReadSeq, unread: summary!.unread }).toEqual({ i, lastReadSeq: seq, unread: 0 });
    }
  });

  it('answers UNAVAILABLE after 5 s when the projection does not reach what the connection was acked, and only that connection waits', async () => {
    const ann = await sys().connect('late-ann');
    const ben = await sys().connect('late-ben');
    const id = (await ann.ok('conversation:create', { type: 'group', members: ['late-ben'] })).conversation.id;
    const before = (await ann.ok('message:send', { conversationId: id, clientMsgId: 'm0', body: 'projected' })).seq;
    await caughtUp(sys().ns);
    // The projector's commits wait on this lock; sends are still appended and acked.
    const lock = await holdTableLock(sys().ns, 'checkpoints');
    try {
      const { seq } = await ann.ok('message:send', { conversationId: id, clientMsgId: 'm1', body: 'not projected yet' });
      const [mine, theirs] = await Promise.all([ann.request('history', { conversationId: id }), ben.request('history', { conversationId: id })]);
      expect(mine).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/not caught up/) } });
      // Another connection owes nothing: answered from the read model as it is.
      expect(theirs.ok && theirs.messages.map((m) => m.seq)).toEqual([before]);
      await lock.release();
      const { messages } = await ann.ok('history', { conversationId: id });
      expect(messages.map((m) => m.seq)).toEqual([before, seq]);
    } finally {
      await lock.release();
    }
  });
});
