import type { ChatEvent, Message } from '@chat/contracts';
import type { TestClient } from '../support/clients';
import { query } from '../support/inspect';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const user = (i: number) => `u${String(i).padStart(3, '0')}`;

/** Every event a client's sync returns from `since`, paging until nothing is left. */
async function syncAll(client: TestClient, since: string): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for (let page = 0; page < 1000; page++) {
    const r = await client.ok('sync', { since, limit: 100 });
    events.push(...r.events);
    since = r.next;
    if (!r.hasMore) return events;
  }
  throw new Error('sync never finished');
}

describe('hybrid fan-out (CHAT_PUSH_FANOUT_MAX = 100)', () => {
  const sys = useSystem('fanout', UNLIMITED);

  it('keeps every member\'s sync exact while a group grows from 3 to 150 members and shrinks back to 20', async () => {
    const clients = await Promise.all(Array.from({ length: 150 }, (_, i) => sys().connect(user(i))));
    const owner = clients[0]!;
    const talker = clients[1]!;
    const { conversation } = await owner.ok('conversation:create', { type: 'group', members: [user(1), user(2)], title: 'growing' });
    const id = conversation.id;
    const cursors = await Promise.all(clients.map(async (c) => (await c.ok('sync', {})).next));

    /** user -> [joined, left) periods, from the acks of the membership changes. */
    const periods = new Map<string, Array<[number, number]>>();
    for (const u of [user(0), user(1), user(2)]) periods.set(u, [[conversation.lastSeq, Infinity]]);
    const sent: number[] = [];
    let talking = true;
    // One member talks all the time, so messages land on both sides of every change.
    const chatter = (async () => {
      for (let i = 0; talking; i++) sent.push((await talker.ok('message:send', { conversationId: id, clientMsgId: `t${i}`, body: `talk ${i}` })).seq);
    })();

    for (let n = 3; n < 150; n += 21) {
      const batch = Array.from({ length: Math.min(21, 150 - n) }, (_, k) => user(n + k));
      const { seq } = await owner.ok('conversation:add_members', { conversationId: id, userIds: batch });
      for (const u of batch) periods.set(u, [...(periods.get(u) ?? []), [seq, Infinity]]);
      sent.push((await owner.ok('message:send', { conversationId: id, clientMsgId: `grow-${n}`, body: `at ${n + batch.length}` })).seq);
    }
    const [{ member_count: peak, ever_pulled: pulled }] = await query<{ member_count: number; ever_pulled: boolean }>(
      sys().ns, 'SELECT member_count, ever_pulled FROM conversations WHERE id = $1', [id],
    );
    expect(peak).toBe(150);
    for (let n = 149; n >= 20; n -= 26) {
      const batch = Array.from({ length: Math.min(26, n - 19) }, (_, k) => user(n - k));
      const { seq } = await owner.ok('conversation:remove_members', { conversationId: id, userIds: batch });
      for (const u of batch) {
        const p = periods.get(u)!;
        p[p.length - 1]![1] = seq;
      }
      sent.push((await owner.ok('message:send', { conversationId: id, clientMsgId: `shrink-${n}`, body: `down from ${n + 1}` })).seq);
    }
    talking = false;
    await chatter;
    expect(pulled).toBe(true);
    const list = await owner.ok('conversation:list', {});
    expect(list.conversations.find((c) => c.id === id)?.memberCount).toBe(20);

    // Every member, present or past: exactly the messages sent while it was a member, once, ascending.
    const last = Math.max(...sent);
    await Promise.all(
      clients.map(async (c, i) => {
        const mine = (periods.get(user(i)) ?? []);
        const expected = sent.filter((s) => mine.some(([from, to]) => s > from && s < to)).sort((a, b) => a - b);
        const messages = await waitFor(`${user(i)}'s sync to reach seq ${last}`, async () => {
          const got = (await syncAll(c, cursors[i]!)).filter((e): e is Message => e.type === 'message' && e.conversationId === id);
          const stillMember = mine.some(([, to]) => to === Infinity);
          return !stillMember || got.some((m) => m.seq === last) ? got : undefined;
        });
        expect({ user: user(i), seqs: messages.map((m) => m.seq) }).toEqual({ user: user(i), seqs: expected });
      }),
    );
  });

  it('delivers live to every online member of a 150-member group, once', async () => {
    const clients = await Promise.all(Array.from({ length: 150 }, (_, i) => sys().connect(`live${i}`)));
    const [owner, ...others] = clients;
    const { conversation } = await owner!.ok('conversation:create', { type: 'group', members: others.slice(0, 99).map((c) => c.userId) });
    await owner!.ok('conversation:add_members', { conversationId: conversation.id, userIds: others.slice(99).map((c) => c.userId) });
    const list = await owner!.ok('conversation:list', {});
    expect(list.conversations.find((c) => c.id === conversation.id)?.memberCount).toBe(150);

    const first = await owner!.ok('message:send', { conversationId: conversation.id, clientMsgId: 'big-1', body: 'hello everyone' });
    const second = await others[0]!.ok('message:send', { conversationId: conversation.id, clientMsgId: 'big-2', body: 'hi owner' });
    await waitFor('all 149 others to get both messages', () => others.every((c) => c.messages().filter((m) => m.conversationId === conversation.id).length >= (c === others[0] ? 1 : 2)));
    await waitFor('the owner to get the reply', () => owner!.messages().some((m) => m.seq === second.seq));
    for (const c of others) {
      const seqs = c.messages().filter((m) => m.conversationId === conversation.id).map((m) => m.seq);
      expect(seqs).toEqual(c === others[0] ? [first.seq] : [first.seq, second.seq]);
    }
  });
});
