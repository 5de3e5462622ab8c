import type { ChatEvent, Message } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('offline catch-up with sync', () => {
  const sys = useSystem('sync');

  it('gives a member who was offline during 30 messages all of them, ascending, from its cursor', async () => {
    const alice = await sys().connect('alice');
    let bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'] });
    await waitForEvents(bob, 1, (e) => e.type === 'conversation');
    const { next: cursor } = await bob.ok('sync', {});
    bob.close();

    const acks: number[] = [];
    for (let i = 0; i < 30; i++) {
      acks.push((await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `off-${i}`, body: `while away ${i}` })).seq);
    }

    bob = await sys().connect('bob');
    // Page through with a small limit so hasMore/next are exercised.
    const events = await waitFor('all 30 messages in bob\'s sync', async () => {
      const seen: ChatEvent[] = [];
      let since = cursor;
      for (let pages = 0; pages < 20; pages++) {
        const page = await bob.ok('sync', { since, limit: 7 });
        seen.push(...page.events);
        since = page.next;
        if (!page.hasMore) break;
      }
      const messages = seen.filter((e): e is Message => e.type === 'message');
      return messages.length >= 30 ? seen : undefined;
    });
    const messages = events.filter((e): e is Message => e.type === 'message');
    expect(messages.map((m) => m.seq)).toEqual(acks);
    expect(messages.map((m) => m.body)).toEqual(acks.map((_, i) => `while away ${i}`));
    expect(messages.every((m) => m.conversationId === conversation.id)).toBe(true);
  });

  it('returns nothing new from a cursor that is up to date, and the new events after it', async () => {
    const alice = await sys().connect('alice2');
    const bob = await sys().connect('bob2');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob2'] });
    await waitForEvents(bob, 1, (e) => e.type === 'conversation');
    const first = await bob.ok('sync', {});
    const again = await bob.ok('sync', { since: first.next });
    expect(again.events).toEqual([]);
    expect(again.hasMore).toBe(false);

    const sent = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'x', body: 'after the cursor' });
    await waitForEvents(bob, 1, (e) => e.type === 'message');
    const later = await bob.ok('sync', { since: again.next });
    expect(later.events).toEqual([expect.objectContaining({ type: 'message', seq: sent.seq, body: 'after the cursor' })]);
    const none = await bob.ok('sync', { since: later.next });
    expect(none.events).toEqual([]);
  });

  it('shows the user\'s conversations and their latest messages in a snapshot sync without a cursor', async () => {
    const alice = await sys().connect('alice3');
    const bob = await sys().connect('bob3');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob3'], title: 'snap' });
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `s${i}`, body: `b${i}` }));
    await waitForEvents(bob, 3, (e) => e.type === 'message');

    const snap = await bob.ok('sync', {});
    expect(snap.hasMore).toBe(false);
    expect(typeof snap.next).toBe('string');
    expect(snap.conversations).toEqual([
      expect.objectContaining({ id: conversation.id, type: 'group', title: 'snap', memberCount: 2, lastSeq: acks[2]!.seq, unread: 3 }),
    ]);
    expect(snap.events.map((e) => (e as Message).seq)).toEqual(acks.map((a) => a.seq));
  });

  it('names the other side in summaries: the peer of a direct conversation, the members of a group of at most 20 by join', async () => {
    const ann = await sys().connect('sum-ann');
    const ben = await sys().connect('sum-ben');
    const direct = (await ann.ok('conversation:create', { type: 'direct', members: ['sum-ben'] })).conversation.id;
    const small = (await ann.ok('conversation:create', { type: 'group', members: ['sum-cal', 'sum-ben'], title: 'small' })).conversation.id;
    // Joined last, though first by name: members are ordered by join (ties by id).
    await ann.ok('conversation:add_members', { conversationId: small, userIds: ['sum-aab'] });
    const others = (n: number) => Array.from({ length: n }, (_, i) => `sum-m${String(i).padStart(2, '0')}`);
    const twenty = (await ann.ok('conversation:create', { type: 'group', members: others(19) })).conversation.id;
    const large = (await ann.ok('conversation:create', { type: 'group', members: others(20) })).conversation.id;

    const expected = {
      [direct]: { memberCount: 2, members: ['sum-ann', 'sum-ben'], peerId: 'sum-ben' },
      [small]: { memberCount: 4, members: ['sum-ann', 'sum-ben', 'sum-cal', 'sum-aab'] },
      [twenty]: { memberCount: 20, members: ['sum-ann', ...others(19)] },
      [large]: { memberCount: 21 },
    };
    const named = (list: Array<{ id: string; memberCount: number; members?: string[]; peerId?: string }>) =>
      Object.fromEntries(list.map((c) => [c.id, { memberCount: c.memberCount, ...(c.members && { members: c.members }), ...(c.peerId && { peerId: c.peerId }) }]));
    expect(named((await ann.ok('conversation:list', {})).conversations)).toEqual(expected);
    expect(named((await ann.ok('sync', {})).conversations!)).toEqual(expected);
    const admin = await fetch(`${sys().app.url}/v1/admin/users/sum-ann/conversations`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(named(((await admin.json()) as { conversations: [] }).conversations)).toEqual(expected);
    // The other side's own view names ann.
    const bens = (await ben.ok('conversation:list', {})).conversations.find((c) => c.id === direct);
    expect(bens).toMatchObject({ peerId: 'sum-ann', members: ['sum-ann', 'sum-ben'] });
  });

  it('answers the user\'s conversation list newest first, paged', async () => {
    const owner = await sys().connect('lister');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { conversation } = await owner.ok('conversation:create', { type: 'group', members: [`peer${i}`] });
      ids.push(conversation.id);
    }
    const first = await owner.ok('conversation:list', { limit: 3 });
    expect(first.conversations.map((c) => c.id)).toEqual(ids.slice(2).reverse());
    expect(first.next).toBeDefined();
    const second = await owner.ok('conversation:list', { limit: 3, before: first.next });
    expect(second.conversations.map((c) => c.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.next).toBeUndefined();
  });
});

describe('a cursor older than the sync retention', () => {
  const sys = useSystem('retention', { CHAT_SYNC_RETENTION: '2s' });

  it('gets reset: true and a fresh snapshot, never a silent gap; a fresh cursor keeps working', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    await waitForEvents(bob, 1, (e) => e.type === 'conversation');
    const old = (await bob.ok('sync', {})).next;
    const sent = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'm1', body: 'soon pruned' });
    await waitForEvents(bob, 1, (e) => e.type === 'message');

    // The pruner runs every second; once the message is older than 2 s its inbox row goes.
    const reset = await waitFor('the old cursor to be answered with a reset', async () => {
      const r = await bob.ok('sync', { since: old });
      return r.reset ? r : undefined;
    }, 30_000, 200);
    expect(reset).toMatchObject({ reset: true, hasMore: false });
    expect(reset.conversations).toEqual([expect.objectContaining({ id: conversation.id, lastSeq: sent.seq })]);
    expect(reset.events).toEqual([expect.objectContaining({ type: 'message', seq: sent.seq })]);

    const fresh = await bob.ok('sync', { since: reset.next });
    expect(fresh.reset).toBeUndefined();
    expect(fresh.events).toEqual([]);
  });
});
