import type { Pool } from 'pg';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { PushRepository } from './push.repository';

describe("the notifier's batched reads and its decisions on a real Postgres", () => {
  const scratch = useScratchDatabase('it_push');
  let pool: Pool;
  let push: PushRepository;

  beforeAll(async () => {
    pool = scratch.pool;
    push = new PushRepository(pool);
    // Two conversations as the projection leaves them: g_a has 5 messages, g_b 2.
    await pool.query(`INSERT INTO conversations (id, partition, kind, created_by, created_at, last_seq, message_count, member_count, last_activity_at) VALUES
      ('g_a', 0, 'group', 'ann', now(), 9, 5, 3, now()), ('g_b', 0, 'group', 'bob', now(), 8, 2, 2, now())`);
    await pool.query(`INSERT INTO members (conversation_id, user_id, joined_seq, last_read_seq, read_count, notify_level, mute_until) VALUES
      ('g_a', 'ann', 1, 9, 5, 'all', NULL), ('g_a', 'bob', 1, 4, 2, 'mentions', NULL), ('g_a', 'cat', 6, 0, 0, 'all', '2030-01-01T00:00:00Z'),
      ('g_b', 'bob', 2, 0, 0, 'none', NULL), ('g_b', 'dan', 2, 8, 2, 'all', NULL)`);
  });

  it('reads the members of many conversations in one query, with the seq each joined at', async () => {
    const members = await push.membersOf(['g_a', 'g_b', 'g_missing']);
    expect([...members.keys()].sort()).toEqual(['g_a', 'g_b']);
    expect(members.get('g_a')).toEqual(new Map([['ann', 1], ['bob', 1], ['cat', 6]]));
    expect(members.get('g_b')).toEqual(new Map([['bob', 2], ['dan', 2]]));
  });

  it('reads the read markers, unread counts and notification settings of (conversation, user) pairs in one query, memberships only', async () => {
    const markers = await push.readMarkers([
      { conversationId: 'g_a', userId: 'bob' }, { conversationId: 'g_a', userId: 'cat' },
      { conversationId: 'g_b', userId: 'bob' }, { conversationId: 'g_b', userId: 'cat' },
    ]);
    expect(markers.get('g_a')).toEqual(new Map([
      ['bob', { lastReadSeq: 4, unread: 3, notify: 'mentions' }],
      ['cat', { lastReadSeq: 0, unread: 5, notify: 'all', muteUntil: new Date('2030-01-01T00:00:00Z') }],
    ]));
    expect(markers.get('g_b')).toEqual(new Map([['bob', { lastReadSeq: 0, unread: 2, notify: 'none' }]]));
    expect(await push.readMarkers([])).toEqual(new Map());
  });

  it('records decisions and online ranges in one statement each, and lists them newest first with ranges as seq..toSeq', async () => {
    await push.record([
      { userId: 'bob', conversationId: 'g_a', seq: 3, decision: 'woken', detail: 'webhook:d1' },
      { userId: 'bob', conversationId: 'g_a', seq: 4, decision: 'coalesced' },
    ]);
    await push.recordOnline([{ userId: 'bob', conversationId: 'g_a', fromSeq: 5, toSeq: 9, messages: 3 }]);
    await push.recordOnline([]);
    const decisions = await push.decisions('bob', 10);
    expect(decisions.map(({ id: _id, at: _at, ...d }) => d)).toEqual([
      { conversationId: 'g_a', seq: 5, toSeq: 9, messages: 3, decision: 'online' },
      { conversationId: 'g_a', seq: 4, decision: 'coalesced' },
      { conversationId: 'g_a', seq: 3, decision: 'woken', detail: 'webhook:d1' },
    ]);
    expect(await push.decisions('bob', 1, decisions[1]!.id)).toEqual([decisions[2]]);
  });

  it('registers at most `max` devices per user, even when registrations race; a device or a token registered again replaces its row', async () => {
    const devices = async (userId: string) =>
      (await pool.query<{ device_id: string; token: string }>('SELECT device_id, token FROM public.push_devices WHERE user_id = $1 ORDER BY device_id', [userId])).rows;
    const reg = (deviceId: string, token: string) => push.register({ userId: 'eve', deviceId, platform: 'webhook', token }, 3);
    // ten at once for a cap of three
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reg(`d${i}`, `https://hooks.example.com/${i}`)));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await devices('eve')).toHaveLength(3);
    const [kept] = await devices('eve');
    // the same device again: replaced, not refused
    expect(await reg(kept!.device_id, 'https://hooks.example.com/new')).toBe(true);
    // another device with a token already registered: takes it over
    expect(await reg('d-other', 'https://hooks.example.com/new')).toBe(true);
    expect((await devices('eve')).filter((d) => d.token === 'https://hooks.example.com/new').map((d) => d.device_id)).toEqual(['d-other']);
    expect(await devices('eve')).toHaveLength(3);
    expect(await reg('d-fourth', 'https://hooks.example.com/4th')).toBe(false);
    expect(await devices('eve')).toHaveLength(3);
    // other users are not counted
    expect(await push.register({ userId: 'fay', deviceId: 'd1', platform: 'webhook', token: 'https://hooks.example.com/1' }, 3)).toBe(true);
  });
});
