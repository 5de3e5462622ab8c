import type { Message } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { caughtUp, footprint } from '../support/inspect';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('threads', () => {
  // One partition: every conversation shares one log, so a seq of another conversation can be named.
  const sys = useSystem('threads', { ...UNLIMITED, CHAT_PARTITIONS: '1' });

  it('keeps replies out of the main timeline, pages a thread, and keeps the root\'s summary', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const carol = await sys().connect('carol');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'] })).conversation.id;
    const before = (await bob.ok('sync', {})).next;
    const root = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'root', body: 'lunch?' })).seq;
    const other = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'other', body: 'also: standup at 10' })).seq;
    const replies: number[] = [];
    for (const [i, who] of [bob, carol, bob, carol, bob].entries()) {
      replies.push((await who.ok('message:send', { conversationId: id, clientMsgId: `r${i}`, body: `reply ${i}`, threadRootSeq: root })).seq);
    }

    // Live, each reply is a message naming its root.
    const live = (await waitForEvents(alice, 5, (e) => e.type === 'message' && e.threadRootSeq === root)) as Message[];
    expect(live.map((m) => m.seq)).toEqual(replies);

    // The main timeline: the root with its summary, the other message, no replies.
    const main = await bob.ok('history', { conversationId: id });
    expect(main.messages.map((m) => m.seq)).toEqual([root, other]);
    expect(main.messages[0]!.thread).toEqual({
      replies: 5, lastReplySeq: replies[4], lastReplyAt: expect.any(String), participants: ['bob', 'carol'],
    });
    expect(main.messages[1]!.thread).toBeUndefined();

    // The thread, newest page first, each page ascending.
    const last = await carol.ok('history', { conversationId: id, threadRootSeq: root, limit: 2 });
    expect(last).toMatchObject({ hasMore: true });
    expect(last.messages.map((m) => m.seq)).toEqual(replies.slice(3));
    const earlier = await carol.ok('history', { conversationId: id, threadRootSeq: root, beforeSeq: replies[3], limit: 10 });
    expect(earlier.messages.map((m) => m.seq)).toEqual(replies.slice(0, 3));
    expect(earlier.hasMore).toBe(false);
    expect(earlier.messages.every((m) => m.threadRootSeq === root)).toBe(true);

    // Replies count in unread and sync like any message; a snapshot's latest messages are the main timeline's.
    const summary = (await carol.ok('conversation:list', {})).conversations.find((c) => c.id === id)!;
    expect(summary.unread).toBe(7 - 2); // 2 main messages + 5 replies, less carol's own 2
    const synced = await bob.ok('sync', { since: before });
    expect(synced.events.filter((e) => e.type === 'message').map((e) => e.seq)).toEqual([root, other, ...replies]);
    const snapshot = await bob.ok('sync', {});
    expect(snapshot.events.filter((e) => e.type === 'message' && e.conversationId === id).map((e) => e.seq)).toEqual([root, other]);

    // A deleted reply still counts in its thread, as a placeholder.
    await bob.ok('message:delete', { conversationId: id, seq: replies[0]! });
    const thread = await alice.ok('history', { conversationId: id, threadRootSeq: root });
    expect(thread.messages[0]).toMatchObject({ seq: replies[0], deleted: true, body: '' });
    expect((await alice.ok('history', { conversationId: id })).messages[0]!.thread!.replies).toBe(5);
  });

  it('answers each bad thread request with its code and writes nothing', async () => {
    const alice = await sys().connect('ann');
    await sys().connect('ben');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['ben'] })).conversation.id;
    const elsewhere = (await alice.ok('conversation:create', { type: 'group', members: ['ben'], title: 'elsewhere' })).conversation.id;
    const root = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'root', body: 'root' })).seq;
    const reply = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'reply', body: 'reply', threadRootSeq: root })).seq;
    const gone = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'gone', body: 'to be deleted' })).seq;
    await alice.ok('message:delete', { conversationId: id, seq: gone });
    // A message of another conversation: with one partition it shares this log's seqs.
    const foreign = (await alice.ok('message:send', { conversationId: elsewhere, clientMsgId: 'foreign', body: 'in another conversation' })).seq;
    await caughtUp(sys().ns);
    const written = await footprint(sys().ns);

    const code = async (payload: Record<string, unknown>) => {
      const ack = await alice.request('message:send', { conversationId: id, body: 'x', clientMsgId: `bad-${Math.random()}`, ...payload });
      return ack.ok ? 'ok' : ack.error.code;
    };
    expect(await code({ threadRootSeq: reply })).toBe('BAD_REQUEST');
    expect(await code({ threadRootSeq: foreign })).toBe('BAD_REQUEST');
    expect(await code({ threadRootSeq: gone })).toBe('NOT_FOUND');
    expect(await code({ threadRootSeq: foreign + 1000 })).toBe('NOT_FOUND');
    expect(await code({ threadRootSeq: 0 })).toBe('BAD_REQUEST');
    expect(await code({ threadRootSeq: 'one' })).toBe('BAD_REQUEST');
    const history = async (threadRootSeq: unknown) => {
      const ack = await alice.request('history', { conversationId: id, threadRootSeq });
      return ack.ok ? 'ok' : ack.error.code;
    };
    expect(await history(reply)).toBe('BAD_REQUEST');
    expect(await history(foreign + 1000)).toBe('NOT_FOUND');
    expect(await history(-1)).toBe('BAD_REQUEST');

    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(written);
    // And the good path still works after the refusals.
    expect(await code({ threadRootSeq: root })).toBe('ok');
    await waitFor('the root\'s second reply', async () => (await alice.ok('history', { conversationId: id })).messages[0]!.thread?.replies === 2);
  });
});
