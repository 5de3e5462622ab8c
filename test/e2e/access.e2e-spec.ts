import { createHash } from 'node:crypto';
import type { ChatEvent, Message } from '@chat/contracts';
import { waitForEvents, type TestClient } from '../support/clients';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** Every event a client's sync returns from `since`, paging until nothing is left. */
async function syncAll(client: TestClient, since: string): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for (let page = 0; page < 100; page++) {
    const r = await client.ok('sync', { since, limit: 50 });
    events.push(...r.events);
    since = r.next;
    if (!r.hasMore) return events;
  }
  throw new Error('sync never finished');
}

const messagesOf = (events: ChatEvent[], id: string) => events.filter((e): e is Message => e.type === 'message' && e.conversationId === id);

describe('what a user may reach: removed members, strangers, presence', () => {
  // Groups of 4 or more are read from the timeline (pull), smaller ones from the inbox (push).
  const sys = useSystem('access', { CHAT_PUSH_FANOUT_MAX: '4' });

  it.each([
    ['pushed (a group of 3)', ['ben', 'cy']],
    ['pulled (a group of 5)', ['ben', 'cy', 'dee', 'eve']],
  ])('shows a removed member each message as it was while it was a member, or not at all: %s', async (_how, others) => {
    const tag = `${others.length}`;
    const ann = await sys().connect(`ann${tag}`);
    const ben = await sys().connect(`ben${tag}`);
    const cy = await sys().connect(`cy${tag}`);
    // ben's cursor from before the conversation existed.
    const cursor = (await ben.ok('sync', {})).next;
    const { conversation } = await ann.ok('conversation:create', { type: 'group', members: others.map((u) => `${u}${tag}`) });
    const id = conversation.id;
    const send = async (clientMsgId: string) => (await ann.ok('message:send', { conversationId: id, clientMsgId: `${clientMsgId}${tag}`, body: clientMsgId })).seq;
    const kept = await send('kept');
    const editedBefore = await send('edited-before');
    const editedAfter = await send('edited-after');
    const reactedAfter = await send('reacted-after');
    const deletedAfter = await send('deleted-after');
    const earlyEdit = await ann.ok('message:edit', { conversationId: id, seq: editedBefore, body: 'changed while ben was there' });
    const scrubbedEdit = await ann.ok('message:edit', { conversationId: id, seq: deletedAfter, body: 'said while ben was there, deleted after' });
    const removal = await ann.ok('conversation:remove_members', { conversationId: id, userIds: [`ben${tag}`] });

    // After ben left: an edit, a reaction, a delete and a new message.
    await ann.ok('message:edit', { conversationId: id, seq: editedAfter, body: 'changed after ben left' });
    await cy.ok('reaction:add', { conversationId: id, seq: reactedAfter, emoji: '🕵' });
    await ann.ok('message:delete', { conversationId: id, seq: deletedAfter });
    const after = await send('after');
    await waitForEvents(cy, 1, (e) => e.type === 'message' && e.seq === after);

    const seen = (await syncAll(ben, cursor)).filter((e) => e.conversationId === id);
    // Unchanged since, or changed only while he was a member: as he saw it.
    expect(messagesOf(seen, id).map((m) => [m.seq, m.body, m.reactions, m.deleted])).toEqual([
      [kept, 'kept', undefined, undefined],
      [editedBefore, 'changed while ben was there', undefined, undefined],
    ]);
    // The edit he saw is there; the one whose body a later delete emptied is not.
    expect(seen.filter((e) => e.type === 'message:edited').map((e) => [e.seq, (e as { body: string }).body])).toEqual([
      [earlyEdit.seq, 'changed while ben was there'],
    ]);
    expect(seen.some((e) => e.seq === scrubbedEdit.seq)).toBe(false);
    expect(seen.filter((e) => e.type === 'conversation').map((e) => e.seq)).toEqual([conversation.lastSeq, removal.seq]);
    expect(Math.max(...seen.map((e) => e.seq))).toBe(removal.seq);
    expect(JSON.stringify(seen)).not.toMatch(/changed after ben left|🕵/);

    // A member, from the same cursor, sees every change.
    const current = messagesOf(await syncAll(cy, cursor), id);
    expect(current.find((m) => m.seq === editedAfter)?.body).toBe('changed after ben left');
    expect(current.map((m) => m.seq)).toEqual([kept, editedBefore, editedAfter, reactedAfter, deletedAfter, after]);
    const history = await cy.ok('history', { conversationId: id });
    expect(history.messages.find((m) => m.seq === editedAfter)?.body).toBe('changed after ben left');
    expect(history.messages.find((m) => m.seq === reactedAfter)?.reactions).toEqual({ '🕵': [`cy${tag}`] });
    // And the removed member cannot read them another way.
    expect(await ben.request('history', { conversationId: id })).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    expect((await ben.ok('conversation:list', {})).conversations.map((c) => c.id)).not.toContain(id);
    expect((await ben.ok('sync', {})).conversations?.map((c) => c.id)).not.toContain(id);
  });

  it('answers a stranger the same for a conversation it is not in, whether it exists or not, and derives direct ids with a key', async () => {
    const ann = await sys().connect('anna');
    const mallory = await sys().connect('mallory');
    const { conversation: direct } = await ann.ok('conversation:create', { type: 'direct', members: ['boris'] });
    const { conversation: group } = await ann.ok('conversation:create', { type: 'group', members: ['boris'] });
    const sent = await ann.ok('message:send', { conversationId: direct.id, clientMsgId: 'hello', body: 'hello' });
    // The id the pair's unkeyed hash gives (how direct ids were derived before): not the id.
    const computable = `d_${createHash('sha256').update(['anna', 'boris'].sort().join('\n')).digest('base64url').slice(0, 32)}`;
    expect(direct.id).toMatch(/^d_[A-Za-z0-9_-]{32}$/);
    expect(direct.id).not.toBe(computable);

    const probes = (conversationId: string): Array<[string, unknown]> => [
      ['message:send', { conversationId, clientMsgId: `probe-${conversationId}`, body: 'anyone?' }],
      ['message:edit', { conversationId, seq: sent.seq, body: 'x' }],
      ['message:delete', { conversationId, seq: sent.seq }],
      ['reaction:add', { conversationId, seq: sent.seq, emoji: '👀' }],
      ['reaction:remove', { conversationId, seq: sent.seq, emoji: '👀' }],
      ['history', { conversationId }],
      ['read', { conversationId, seq: sent.seq }],
      ['typing', { conversationId, state: 'start' }],
      ['conversation:add_members', { conversationId, userIds: ['mallory'] }],
      ['conversation:remove_members', { conversationId, userIds: ['anna'] }],
    ];
    const answers = async (conversationId: string) => {
      const acks = [];
      for (const [event, payload] of probes(conversationId)) acks.push([event, await mallory.request(event as 'history', payload)]);
      return acks;
    };
    const forDirect = await answers(direct.id);
    expect(forDirect).toEqual(probes(direct.id).map(([event]) => [event, { ok: false, error: { code: 'FORBIDDEN', message: 'not a member of this conversation' } }]));
    for (const other of [group.id, computable, 'd_0000000000000000000000000000000a', 'g_nope']) expect(await answers(other)).toEqual(forDirect);
    // Nothing was written by any of them.
    expect((await ann.ok('history', { conversationId: direct.id })).messages.map((m) => [m.body, m.reactions])).toEqual([['hello', undefined]]);
  });

  it('relays presence only of users who share a conversation with the watcher', async () => {
    const gus = await sys().connect('gus');
    const max = await sys().connect('max');
    await gus.ok('conversation:create', { type: 'direct', members: ['fay'] });
    expect((await gus.ok('presence:subscribe', { userIds: ['fay'] })).presence).toEqual([{ userId: 'fay', status: 'offline' }]);
    // max shares nothing with fay: no answer about her, no events; himself he may watch.
    expect((await max.ok('presence:subscribe', { userIds: ['fay', 'max'] })).presence).toEqual([{ userId: 'max', status: 'online' }]);
    const fay = await sys().connect('fay');
    await waitFor('gus to see fay online', () => gus.presence.some((p) => p.userId === 'fay' && p.status === 'online'));
    fay.close();
    await waitFor('gus to see fay offline', () => gus.presence.some((p) => p.userId === 'fay' && p.status === 'offline'));
    // A round trip after the last transition: an event relayed to max would have come before its answer.
    await max.ok('presence:subscribe', { userIds: ['max'] });
    expect(max.presence).toEqual([]);
  });
});
