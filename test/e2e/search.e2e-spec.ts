import type { Message } from '@chat/contracts';
import type { TestClient } from '../support/clients';
import { caughtUp, footprint, query } from '../support/inspect';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const BAD_REQUEST = { ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) };
const FORBIDDEN = { ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) };

const bodies = (hits: Message[]) => hits.map((m) => m.body);

/** Every page of a search, following `next`. */
async function allPages(client: TestClient, payload: Record<string, unknown>): Promise<Message[][]> {
  const pages: Message[][] = [];
  for (let before: string | undefined; ; ) {
    const page = await client.ok('search', { ...payload, ...(before && { before }) });
    pages.push(page.hits);
    if (!page.next) return pages;
    before = page.next;
  }
}

describe('search', () => {
  const sys = useSystem('search', UNLIMITED);

  it('finds only what the caller may read: its membership periods, nothing from before it joined or after it left', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const carol = await sys().connect('carol');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'], title: 'fruit' });
    const id = conversation.id;
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'p1', body: 'pineapple before carol' });
    await alice.ok('conversation:add_members', { conversationId: id, userIds: ['carol'] });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'p2', body: 'pineapple while carol is here' });
    await alice.ok('conversation:remove_members', { conversationId: id, userIds: ['carol'] });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'p3', body: 'pineapple after carol left' });
    await alice.ok('conversation:add_members', { conversationId: id, userIds: ['carol'] });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'p4', body: 'pineapple when carol is back' });
    // Alice's own writes: her search waits for the index, so all four are there at once, newest first.
    expect(bodies((await alice.ok('search', { query: 'pineapple' })).hits)).toEqual([
      'pineapple when carol is back', 'pineapple after carol left', 'pineapple while carol is here', 'pineapple before carol',
    ]);
    await caughtUp(sys().ns);
    expect(bodies((await carol.ok('search', { query: 'pineapple' })).hits)).toEqual(['pineapple when carol is back', 'pineapple while carol is here']);
    expect(bodies((await carol.ok('search', { query: 'pineapple', conversationId: id })).hits)).toEqual(['pineapple when carol is back', 'pineapple while carol is here']);
    expect((await bob.ok('search', { query: 'pineapple', conversationId: id })).hits).toHaveLength(4);
    // Once she has left for good, what she read there is still hers to find; nothing newer is.
    await alice.ok('conversation:remove_members', { conversationId: id, userIds: ['carol'] });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'p5', body: 'pineapple, carol gone' });
    await caughtUp(sys().ns);
    expect(bodies((await carol.ok('search', { query: 'pineapple', conversationId: id })).hits)).toEqual(['pineapple when carol is back', 'pineapple while carol is here']);
    // A message changed after she left (an edit, a reaction) would show her what came after: she no longer finds it.
    const all = (await bob.ok('search', { query: 'pineapple', conversationId: id })).hits;
    const whileHere = all.find((m) => m.body === 'pineapple while carol is here')!;
    await alice.ok('message:edit', { conversationId: id, seq: whileHere.seq, body: 'pineapple while carol is here, edited once she left' });
    await bob.ok('reaction:add', { conversationId: id, seq: all.find((m) => m.body === 'pineapple when carol is back')!.seq, emoji: '🍍' });
    await caughtUp(sys().ns);
    expect((await carol.ok('search', { query: 'pineapple' })).hits).toEqual([]);
    expect(bodies((await bob.ok('search', { query: 'edited' })).hits)).toEqual(['pineapple while carol is here, edited once she left']);
    // A stranger: FORBIDDEN for the conversation, nothing of it in a search over everything.
    const dave = await sys().connect('dave');
    expect(await dave.request('search', { query: 'pineapple', conversationId: id })).toEqual(FORBIDDEN);
    expect(await dave.request('search', { query: 'pineapple', conversationId: 'g_nosuchconversation0000' })).toEqual(FORBIDDEN);
    expect((await dave.ok('search', { query: 'pineapple' })).hits).toEqual([]);
  });

  it('ANDs words, matches a quoted phrase as a phrase, and pages newest first', async () => {
    const alice = await sys().connect('alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const id = conversation.id;
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'a', body: 'a red apple pie' });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'b', body: 'the apple is red' });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'c', body: 'Red wine, no apples' });
    expect(bodies((await alice.ok('search', { query: 'red apple', conversationId: id })).hits)).toEqual(['the apple is red', 'a red apple pie']);
    expect(bodies((await alice.ok('search', { query: '"red apple"', conversationId: id })).hits)).toEqual(['a red apple pie']);
    expect(bodies((await alice.ok('search', { query: 'RED', conversationId: id })).hits)).toEqual(['Red wine, no apples', 'the apple is red', 'a red apple pie']);
    expect(bodies((await alice.ok('search', { query: 'red -apple', conversationId: id })).hits)).toEqual(['Red wine, no apples']);
    expect((await alice.ok('search', { query: 'red banana', conversationId: id })).hits).toEqual([]);

    const sent: string[] = [];
    for (let i = 0; i < 7; i++) {
      await alice.ok('message:send', { conversationId: id, clientMsgId: `page-${i}`, body: `paging word ${i}` });
      sent.unshift(`paging word ${i}`);
    }
    const pages = await allPages(alice, { query: 'paging', conversationId: id, limit: 3 });
    expect(pages.map(bodies)).toEqual([sent.slice(0, 3), sent.slice(3, 6), sent.slice(6)]);
    expect((await alice.ok('search', { query: 'paging' })).hits).toHaveLength(7); // default limit 20
  });

  it('finds an own edit by its new text at once, never by its old one, and a deleted message never', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const id = conversation.id;
    const kiwi = await alice.ok('message:send', { conversationId: id, clientMsgId: 'k', body: 'kiwi for lunch' });
    await alice.ok('message:edit', { conversationId: id, seq: kiwi.seq, body: 'mango for lunch' });
    // No wait: the search shows what this connection was acked for.
    const found = await alice.ok('search', { query: 'mango' });
    expect(found.hits.map((m) => [m.seq, m.body, m.editedAt !== undefined])).toEqual([[kiwi.seq, 'mango for lunch', true]]);
    expect((await alice.ok('search', { query: 'kiwi' })).hits).toEqual([]);
    await alice.ok('message:delete', { conversationId: id, seq: kiwi.seq });
    expect((await alice.ok('search', { query: 'mango' })).hits).toEqual([]);
    expect((await alice.ok('search', { query: 'lunch' })).hits).toEqual([]);
    // Another reader, once the index caught up: the same.
    await caughtUp(sys().ns);
    expect((await bob.ok('search', { query: 'mango' })).hits).toEqual([]);
    expect(await query(sys().ns, 'SELECT * FROM search.messages WHERE conversation_id = $1 AND seq = $2', [id, kiwi.seq])).toEqual([]);
  });

  it('answers bad input with BAD_REQUEST and changes nothing', async () => {
    const alice = await sys().connect('alice');
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);
    for (const payload of [
      { query: '' }, { query: 'x'.repeat(201) }, { query: '"" - or' }, { query: '-apple' }, { query: '!!! ...' }, { query: '""' },
      { query: 'a', limit: 0 }, { query: 'a', limit: 51 }, { query: 'a', before: 'not-a-cursor' }, { query: 'a', before: 'WzEsMiwzXQ' },
      { query: 'a', conversationId: '*' }, { query: 'a\u0000' }, {}, { query: 7 },
    ]) {
      expect(await alice.request('search', payload)).toEqual(BAD_REQUEST);
    }
    expect((await alice.ok('search', { query: 'x'.repeat(200) })).hits).toEqual([]);
    expect(await footprint(sys().ns)).toEqual(before);
  });
});

describe('search across tiers', () => {
  const sys = useSystem('search-tiers', { ...UNLIMITED, CHAT_TIER_HOT_AGE: '2s', CHAT_TIER_WARM_AGE: '5s', CHAT_ARCHIVE_INTERVAL: '500ms', CHAT_ARCHIVE_BLOCK: '10' });

  it('still finds a message once it is archived, and its page comes from the cold tier with its later edit', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const id = conversation.id;
    const seqs: number[] = [];
    for (let i = 0; i < 25; i++) seqs.push((await alice.ok('message:send', { conversationId: id, clientMsgId: `m${i}`, body: `archived note ${i}` })).seq);
    await waitFor('the first messages in the cold tier', async () => {
      const rows = await query<{ n: string }>(sys().ns, 'SELECT count(*) AS n FROM cold_manifest WHERE conversation_id = $1 AND first_seq <= $2', [id, seqs[3]]);
      return Number(rows[0]!.n) > 0;
    }, 60_000, 200);
    expect(await query(sys().ns, `SELECT seq FROM timeline WHERE conversation_id = $1 AND seq = $2`, [id, seqs[3]])).toEqual([]);
    // An edit of a cold message: found by its new text, served from the block with its patch.
    await alice.ok('message:edit', { conversationId: id, seq: seqs[3]!, body: 'archived but edited' });
    const hits = (await alice.ok('search', { query: '"but edited"' })).hits;
    expect(hits.map((m) => [m.seq, m.body])).toEqual([[seqs[3], 'archived but edited']]);
    await caughtUp(sys().ns);
    const pages = await allPages(bob, { query: 'archived note', limit: 10 });
    expect(pages.flat().map((m) => m.seq)).toEqual(seqs.filter((s) => s !== seqs[3]).reverse());
  });
});
