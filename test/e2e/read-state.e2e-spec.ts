import type { ReadMarker } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { UNLIMITED } from '../support/namespace';
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

    // Alice's own count: she read nothing; the reader's other devices see its markers in sync.
    const mine = (await alice.ok('conversation:list', {})).conversations.find((c) => c.id === id)!;
    expect(mine.unread).toBe(120);
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
});
