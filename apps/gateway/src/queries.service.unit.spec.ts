import type { Config } from '@chat/config';
import type { ChatEvent, ConversationSummary, Message } from '@chat/contracts';
import { encodeCursor, type PartitionEvents, type ReadModelRepository, type TieredMessages } from '@chat/storage';
import type { ConversationCache } from '@chat/commands';
import { jsonSize } from './answer.budget';
import { QueriesService } from './queries.service';

const caller = { userId: 'ann', exp: Number.MAX_SAFE_INTEGER } as never;
const message = (conversationId: string, seq: number, bytes = 1_000): Message => ({
  type: 'message', conversationId, seq, senderId: 'bob', clientMsgId: `c${seq}`, body: 'x'.repeat(bytes), sentAt: '2026-01-01T00:00:00.000Z',
});
/** Every answer here holds about three 1,000-byte messages. */
const BUDGET = jsonSize(message('g_1', 1)) * 3 + 100;

/** Read models with two partitions of events and one conversation's messages, answering like the repository does. */
function service(partitions: Array<{ upto: number; events: ChatEvent[] }>, history: Message[] = [], summaries: ConversationSummary[] = []) {
  const readModel = {
    snapshot: async () => ({
      watermarks: [5],
      conversations: summaries,
      messages: history,
      messageCounts: new Map(summaries.map((c) => [c.id, history.filter((m) => m.conversationId === c.id).length])),
    }),
    eventsAfter: async (_user: string, watermarks: number[], limit: number): Promise<PartitionEvents[]> =>
      partitions.map((p, partition) => {
        const after = watermarks[partition] ?? 0;
        const events = p.events.filter((e) => (e as { seq: number }).seq > after).slice(0, limit + 1);
        return { partition, after, upto: p.upto, horizon: 0, events: events.map((event) => ({ seq: (event as { seq: number }).seq, event })) };
      }),
    listConversations: async (_user: string, limit: number, before?: { at: string; id: string }) => {
      const from = before ? summaries.findIndex((s) => s.id === before.id) + 1 : 0;
      return summaries.slice(from, from + limit);
    },
  } as unknown as ReadModelRepository;
  const conversations = { get: async () => ({ members: new Set(['ann']) }) } as unknown as ConversationCache;
  const tiered = {
    page: async (_id: string, range: { beforeSeq?: number }, limit: number) => {
      const older = history.filter((m) => m.seq < (range.beforeSeq ?? Infinity));
      return { messages: older.slice(-limit), hasMore: older.length > limit };
    },
  } as unknown as TieredMessages;
  return new QueriesService({ CHAT_MAX_ANSWER_BYTES: BUDGET } as Config, readModel, conversations, tiered);
}

const summary = (id: string, day: number, lastMessage?: Message): ConversationSummary => ({
  id, type: 'group', memberCount: 2, lastSeq: 1, lastReadSeq: 0, unread: 1, unreadMentions: 0, notify: { level: 'all' },
  lastActivityAt: new Date(Date.UTC(2026, 0, day)).toISOString(), ...(lastMessage && { lastMessage }),
});

describe('QueriesService answers within CHAT_MAX_ANSWER_BYTES and pages on exactly', () => {
  it('sync: cuts a partition at the last event that fits, leaves later partitions for the next call, and misses nothing', async () => {
    const p0 = [1, 2, 3, 4, 5].map((seq) => message('g_a', seq));
    const p1 = [2, 6, 7].map((seq) => message('g_b', seq));
    const queries = service([{ upto: 9, events: p0 }, { upto: 8, events: p1 }]);
    const seen: ChatEvent[] = [];
    let since = encodeCursor({ watermarks: [0, 0] });
    const pages: number[] = [];
    for (let calls = 0; calls < 10; calls++) {
      const page = await queries.sync(caller, { since });
      expect(jsonSize(page.events)).toBeLessThanOrEqual(BUDGET);
      seen.push(...page.events);
      pages.push(page.events.length);
      since = page.next;
      if (!page.hasMore) break;
    }
    expect(pages).toEqual([3, 3, 2]);
    expect(seen).toEqual([...p0, ...p1]);
    // The last cursor is at both checkpoints: nothing left below them.
    expect(await queries.sync(caller, { since })).toEqual({ next: encodeCursor({ watermarks: [9, 8] }), events: [], hasMore: false });
  });

  it('sync: takes one event that is larger than the budget on its own, so a client always progresses', async () => {
    const big = message('g_a', 1, BUDGET * 2);
    const queries = service([{ upto: 2, events: [big, message('g_a', 2)] }]);
    const page = await queries.sync(caller, { since: encodeCursor({ watermarks: [0] }) });
    expect(page).toEqual({ next: encodeCursor({ watermarks: [1] }), events: [big], hasMore: true });
  });

  it('history: keeps the newest messages that fit, and the client pages back from the first as usual', async () => {
    const all = Array.from({ length: 10 }, (_, i) => message('g_a', i + 1));
    const queries = service([], all);
    const first = await queries.history(caller, { conversationId: 'g_a', limit: 200 });
    expect(first.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(first.hasMore).toBe(true);
    const got: Message[] = [...first.messages];
    let page = first;
    while (page.hasMore) {
      page = await queries.history(caller, { conversationId: 'g_a', limit: 200, beforeSeq: page.messages[0]!.seq });
      got.unshift(...page.messages);
    }
    expect(got).toEqual(all);
  });

  it('history: an untrimmed last page keeps hasMore false', async () => {
    const queries = service([], [message('g_a', 1), message('g_a', 2)]);
    expect(await queries.history(caller, { conversationId: 'g_a' })).toEqual({ messages: [message('g_a', 1), message('g_a', 2)], hasMore: false });
  });

  it('conversation:list: fewer summaries when their last messages are large, with next for the rest', async () => {
    const summaries = Array.from({ length: 5 }, (_, i) => summary(`g_${i}`, 10 - i, message(`g_${i}`, 1)));
    const queries = service([], [], summaries);
    const first = await queries.list(caller, {});
    expect(first.conversations.map((c) => c.id)).toEqual(['g_0', 'g_1']);
    expect(first.next).toBeDefined();
    const second = await queries.list(caller, { before: first.next! });
    const third = await queries.list(caller, { before: second.next! });
    expect([...first.conversations, ...second.conversations, ...third.conversations].map((c) => c.id)).toEqual(['g_0', 'g_1', 'g_2', 'g_3', 'g_4']);
    expect(third.next).toBeUndefined();
  });

  it('sync snapshot: every conversation, then the latest messages of each as long as the budget lasts; the cursor is the snapshot\'s', async () => {
    const summaries = [summary('g_new', 3), summary('g_mid', 2), summary('g_old', 1)];
    const history = ['g_new', 'g_mid', 'g_old'].flatMap((id, c) => [1, 2].map((n) => message(id, c * 10 + n, 700)));
    const page = await service([], history, summaries).sync(caller, {});
    expect(page.conversations!.map((c) => c.id)).toEqual(['g_new', 'g_mid', 'g_old']);
    // Two of g_new and the newer of g_mid fit; g_old's wait for history.
    expect(page.events.map((e) => (e as Message).seq)).toEqual([1, 2, 12]);
    expect(page).toMatchObject({ next: encodeCursor({ watermarks: [5] }), hasMore: false });
  });
});
