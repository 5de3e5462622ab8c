import type { ChatEvent, Message } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { query } from '../support/inspect';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

const FORBIDDEN = { ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) };
const NOT_FOUND = { ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) };

describe('edits, deletes and reactions', () => {
  const sys = useSystem('changes');

  it('accepts a reply to a message sent a moment ago, whatever the gateway cached of the conversation', async () => {
    const ann = await sys().connect('ann');
    const ben = await sys().connect('ben');
    const { conversation } = await ann.ok('conversation:create', { type: 'direct', members: ['ben'] });
    // Ben's gateway has the conversation cached from his first send; Ann's message comes after it.
    await ben.ok('message:send', { conversationId: conversation.id, clientMsgId: 'ben-1', body: 'hi' });
    const fresh = await ann.ok('message:send', { conversationId: conversation.id, clientMsgId: 'ann-1', body: 'news' });
    const reply = await ben.ok('message:send', { conversationId: conversation.id, clientMsgId: 'ben-2', body: 'about that', replyToSeq: fresh.seq });
    const history = await waitFor('the reply in history', async () => (await ben.ok('history', { conversationId: conversation.id })).messages.find((m) => m.seq === reply.seq));
    expect(history.replyToSeq).toBe(fresh.seq);
    expect(await ben.request('message:send', { conversationId: conversation.id, clientMsgId: 'ben-3', body: 'x', replyToSeq: reply.seq + 1000 })).toEqual(NOT_FOUND);
  });

  it('lets only the author edit, the author or the group creator delete, and folds every change into history', async () => {
    const creator = await sys().connect('cora');
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await creator.ok('conversation:create', { type: 'group', members: ['alice', 'bob'] });
    const id = conversation.id;
    const since = (await bob.ok('sync', {})).next;
    const first = await alice.ok('message:send', { conversationId: id, clientMsgId: 'a1', body: 'first draft' });
    const second = await alice.ok('message:send', { conversationId: id, clientMsgId: 'a2', body: 'a secret to delete' });
    const third = await bob.ok('message:send', { conversationId: id, clientMsgId: 'b1', body: 'bob says' });

    expect(await bob.request('message:edit', { conversationId: id, seq: first.seq, body: 'hijacked' })).toEqual(FORBIDDEN);
    expect(await creator.request('message:edit', { conversationId: id, seq: first.seq, body: 'hijacked' })).toEqual(FORBIDDEN);
    expect(await bob.request('message:delete', { conversationId: id, seq: first.seq })).toEqual(FORBIDDEN);
    const edited = await alice.ok('message:edit', { conversationId: id, seq: first.seq, body: 'final text' });
    await alice.ok('message:edit', { conversationId: id, seq: second.seq, body: 'a secret, edited' });
    const deleted = await alice.ok('message:delete', { conversationId: id, seq: second.seq });
    const byCreator = await creator.ok('message:delete', { conversationId: id, seq: third.seq });
    expect(await alice.request('message:edit', { conversationId: id, seq: second.seq, body: 'back from the dead' })).toEqual(NOT_FOUND);
    expect(await alice.request('reaction:add', { conversationId: id, seq: second.seq, emoji: '👍' })).toEqual(NOT_FOUND);
    expect(await alice.request('message:edit', { conversationId: id, seq: 999_999, body: 'nothing there' })).toEqual(NOT_FOUND);

    const r1 = await bob.ok('reaction:add', { conversationId: id, seq: first.seq, emoji: '👍' });
    const again = await bob.ok('reaction:add', { conversationId: id, seq: first.seq, emoji: '👍' });
    expect(again.seq).toBeGreaterThanOrEqual(r1.seq); // an idempotent no-op: no new event
    await creator.ok('reaction:add', { conversationId: id, seq: first.seq, emoji: '👍' });
    await creator.ok('reaction:add', { conversationId: id, seq: first.seq, emoji: '🎉' });
    const removed = await creator.ok('reaction:remove', { conversationId: id, seq: first.seq, emoji: '🎉' });

    // Live: bob saw each change as its own event with its own seq.
    const live = await waitForEvents(bob, 1, (e) => e.type === 'reaction' && e.seq === removed.seq);
    expect(live).toHaveLength(1);
    expect(bob.received.filter((e) => e.type === 'message:edited').map((e) => e.seq)).toContain(edited.seq);
    expect(bob.received.filter((e) => e.type === 'message:deleted').map((e) => (e as { targetSeq: number }).targetSeq)).toEqual([second.seq, third.seq]);
    // cora's three; bob's own reaction went to his other devices, not to the socket that sent it.
    expect(bob.received.filter((e) => e.type === 'reaction').map((e) => e.seq)).toEqual([removed.seq - 2, removed.seq - 1, removed.seq]);

    // History: the folded state.
    const history = await waitFor('the changes folded into history', async () => {
      const h = await bob.ok('history', { conversationId: id });
      const m = h.messages.find((x) => x.seq === first.seq);
      return m?.reactions && !m.reactions['🎉'] ? h.messages : undefined;
    });
    expect(history.map((m: Message) => m.seq)).toEqual([first.seq, second.seq, third.seq]);
    expect(history[0]).toMatchObject({ body: 'final text', editedAt: expect.any(String), reactions: { '👍': ['bob', 'cora'] } });
    expect(history[0]!.deleted).toBeUndefined();
    expect(history[1]).toMatchObject({ seq: second.seq, body: '', deleted: true });
    expect(history[1]!.editedAt).toBeUndefined();
    expect(history[2]).toMatchObject({ seq: third.seq, body: '', deleted: true });

    // Sync shows the change events in seq order after the messages.
    const events: ChatEvent[] = (await bob.ok('sync', { since, limit: 1000 })).events;
    const kinds = events.filter((e) => e.conversationId === id).map((e) => [e.type, e.seq]);
    expect(kinds).toEqual(expect.arrayContaining([['message:edited', edited.seq], ['message:deleted', deleted.seq], ['message:deleted', byCreator.seq]]));
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));

    // The deleted body is gone from every read model, including the edit that carried it.
    const leaks = await query(sys().ns, `SELECT conversation_id, seq, kind FROM timeline WHERE payload::text LIKE '%secret%' UNION ALL SELECT id, last_seq, 'last_message' FROM conversations WHERE last_message::text LIKE '%secret%'`);
    expect(leaks).toEqual([]);
  });

  it('keeps a direct conversation\'s messages deletable only by their author', async () => {
    const a = await sys().connect('dina');
    const b = await sys().connect('ed');
    const { conversation } = await a.ok('conversation:create', { type: 'direct', members: ['ed'] });
    const sent = await b.ok('message:send', { conversationId: conversation.id, clientMsgId: 'e1', body: 'mine' });
    expect(await a.request('message:delete', { conversationId: conversation.id, seq: sent.seq })).toEqual(FORBIDDEN);
    await b.ok('message:delete', { conversationId: conversation.id, seq: sent.seq });
  });
});
