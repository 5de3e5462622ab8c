import type { Pool, QueryResult } from 'pg';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { ensureProjectionSchema, SEARCH } from './projection-schema';
import { ReadModelRepository } from './read-model.repository';
import { SearchQueries } from './search.repository';

jest.setTimeout(180_000);

const PARTITIONS = 4;
const USERS = 50_000;
const CONVERSATIONS = 20_000;
const MEMBERS_EACH = 10;
const EVENTS_EACH = 15;
/** Every LARGE_EVERY-th conversation is large (pulled): its events are left to the timeline. */
const LARGE_EVERY = 100;
/** Inbox rows: each member of each small conversation gets its first INBOX_EACH events pushed. */
const INBOX_EACH = 2;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** A relation this big must not be read whole; a small one (checkpoints, an empty month of the timeline) may be. */
const BIG_ROWS = 10_000;

function scans(plan: PlanNode): PlanNode[] {
  return [...(plan['Relation Name'] ? [plan] : []), ...(plan.Plans ?? []).flatMap(scans)];
}

/**
 * A pool that, before each read a repository sends, asks Postgres how it would run it
 * (EXPLAIN, same text, same parameters), then runs it: the plans are those of the
 * repository's own SQL, not of a copy in the test.
 */
function explaining(pool: Pool, plans: Array<{ sql: string; plan: PlanNode }>): Pool {
  const explain = async (run: (text: string, params?: unknown[]) => Promise<QueryResult>, text: string, params?: unknown[]) => {
    if (/^\s*(SELECT|WITH)\b/i.test(text)) {
      const { rows } = await run(`EXPLAIN (FORMAT JSON) ${text}`, params);
      plans.push({ sql: text.replace(/\s+/g, ' ').trim(), plan: (rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan });
    }
    return run(text, params);
  };
  return {
    query: (text: string, params?: unknown[]) => explain((t, p) => pool.query(t, p), text, params),
    connect: async () => {
      const client = await pool.connect();
      return { query: (text: string, params?: unknown[]) => explain((t, p) => client.query(t, p), text, params), release: () => client.release() };
    },
  } as unknown as Pool;
}

describe('read model queries at scale (real Postgres, a few hundred thousand rows)', () => {
  const scratch = useScratchDatabase('it_plans');
  let pool: Pool;
  const plans: Array<{ sql: string; plan: PlanNode }> = [];
  let reads: ReadModelRepository;
  let search: SearchQueries;
  /** relation -> rows, as the planner knows them after ANALYZE. */
  let rowsOf = new Map<string, number>();

  beforeAll(async () => {
    pool = scratch.pool;
    // Conversation i (1..CONVERSATIONS) is in partition i % PARTITIONS, has members
    // u((i*MEMBERS_EACH + k) % USERS) (so each user is in 4 conversations) and events
    // with seqs i*EVENTS_EACH + j. Large conversations have 500 members on record and are pulled.
    await pool.query(
      `INSERT INTO conversations (id, partition, kind, created_by, created_at, last_seq, message_count, member_count, last_activity_at, ever_pulled)
       SELECT 'c' || i, i % $1, 'group', 'u0', now(), i * $2 + $2 - 1, $2, CASE WHEN i % $3 = 0 THEN 500 ELSE $4 END,
              now() - make_interval(secs => i), i % $3 = 0
         FROM generate_series(1, $5) AS i`,
      [PARTITIONS, EVENTS_EACH, LARGE_EVERY, MEMBERS_EACH, CONVERSATIONS],
    );
    for (const table of ['members', 'membership_periods']) {
      await pool.query(
        `INSERT INTO ${table} (conversation_id, user_id, joined_seq)
         SELECT 'c' || i, 'u' || ((i * $1 + k) % $2), i * $3 FROM generate_series(1, $4) AS i, generate_series(0, $1 - 1) AS k`,
        [MEMBERS_EACH, USERS, EVENTS_EACH, CONVERSATIONS],
      );
    }
    await pool.query(
      `INSERT INTO timeline (conversation_id, seq, partition, kind, message_no, pulled, payload, at)
       SELECT 'c' || i, i * $1 + j, i % $2, 'message', j + 1, i % $3 = 0,
              jsonb_build_object('type', 'message', 'conversationId', 'c' || i, 'seq', i * $1 + j),
              now() - make_interval(months => i % 2)
         FROM generate_series(1, $4) AS i, generate_series(0, $1 - 1) AS j`,
      [EVENTS_EACH, PARTITIONS, LARGE_EVERY, CONVERSATIONS],
    );
    await pool.query(
      `INSERT INTO inbox (user_id, partition, seq, conversation_id)
       SELECT 'u' || ((i * $1 + k) % $2), i % $3, i * $4 + j, 'c' || i
         FROM generate_series(1, $5) AS i, generate_series(0, $1 - 1) AS k, generate_series(0, $6 - 1) AS j
        WHERE i % $7 <> 0`,
      [MEMBERS_EACH, USERS, PARTITIONS, EVENTS_EACH, CONVERSATIONS, INBOX_EACH, LARGE_EVERY],
    );
    // A third of the events were changed after they were written (edits, reactions), and
    // u2345 left its conversations a few events after joining: sync checks those rows
    // against the user's membership periods.
    await pool.query('UPDATE timeline SET changed_seq = seq + 1 WHERE seq % 3 = 0');
    await pool.query(`UPDATE membership_periods SET left_seq = joined_seq + 1 WHERE user_id = 'u2345'`);
    await pool.query(
      `INSERT INTO checkpoints (projection, partition, last_seq) SELECT 'timeline', p, $2 FROM generate_series(0, $1 - 1) AS p`,
      [PARTITIONS, (CONVERSATIONS + 1) * EVENTS_EACH],
    );
    await pool.query('INSERT INTO sync_horizon (partition, seq) SELECT p, 0 FROM generate_series(0, $1 - 1) AS p', [PARTITIONS]);
    // The search index of those messages: `common` in every one, `word<n>` in one in a thousand.
    await ensureProjectionSchema(pool, SEARCH);
    await pool.query(
      `INSERT INTO search.messages (conversation_id, seq, sent_at, tsv)
       SELECT conversation_id, seq, at, to_tsvector('simple', 'common word' || (seq % 1000)) FROM timeline WHERE kind = 'message'`,
    );
    // What autovacuum does on a live system: the planner sees the tables as they are.
    await pool.query('ANALYZE');
    const { rows } = await pool.query<{ relname: string; rows: number }>(
      `SELECT relname, reltuples::float8 AS rows FROM pg_class WHERE relnamespace IN ('timeline'::regnamespace, 'search'::regnamespace) AND relkind = 'r'`,
    );
    rowsOf = new Map(rows.map((r) => [r.relname, r.rows]));
    reads = new ReadModelRepository(explaining(pool, plans));
    search = new SearchQueries(explaining(pool, plans));
  });

  it('holds the rows it is about', async () => {
    const { rows } = await pool.query<{ inbox: number; timeline: number; members: number; periods: number }>(
      `SELECT (SELECT count(*)::int FROM inbox) AS inbox, (SELECT count(*)::int FROM timeline) AS timeline,
              (SELECT count(*)::int FROM members) AS members, (SELECT count(*)::int FROM membership_periods) AS periods`,
    );
    expect(rows[0]).toEqual({ inbox: 396_000, timeline: 300_000, members: 200_000, periods: 200_000 });
    // The timeline's rows lie in two months (partitions): each is big.
    expect([...rowsOf].filter(([name, n]) => name.startsWith('timeline_') && n >= BIG_ROWS)).toHaveLength(2);
  });

  // u1234 is in c123 (i*10 + k = 1234: i = 123, k = 4), c5123, c10123 and c15123, all small;
  // u1000 and u1001 are in c100, c5100, c10100 and c15100, all large.
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['sync from a cursor (inbox and pulled timeline)', () => reads.eventsAfter('u1234', [0, 0, 0, 0], 500)],
    ['sync from a recent cursor', () => reads.eventsAfter('u1234', [120_000, 120_000, 120_000, 120_000], 500)],
    ['sync of a member of a large conversation', () => reads.eventsAfter('u1000', [1_000, 1_000, 1_000, 1_000], 500)],
    ['sync of a user removed from its conversations (changed rows checked against its periods)', () => reads.eventsAfter('u2345', [0, 0, 0, 0], 500)],
    ['users who share a conversation with the caller (presence:subscribe of 500)', () => reads.sharingAConversation('u1234', Array.from({ length: 500 }, (_, n) => `u${n * 97}`))],
    ['sync without a cursor (snapshot)', () => reads.snapshot('u1234', 20, 1000)],
    ['large conversations of one user (handshake)', () => reads.largeConversationsOf('u1000', 100)],
    ['large conversations of 500 users at once (a batch of handshakes)', () => reads.largeConversationsOfMany(Array.from({ length: 500 }, (_, n) => `u${n * 97}`), 100)],
    ['conversation list', () => reads.listConversations('u1234', 50)],
    ['search for a word in every message (a user in 4 conversations)', () => search.find('u1234', 'common', { limit: 21 })],
    ['search checking the words on the user\'s own messages (scan)', () => search.find('u1234', '"common word7"', { limit: 21, scan: true })],
    ['what a search needs to know first (plan)', () => search.plan('u1234', 'common', 'c123')],
    ['search for a rare word', () => search.find('u1234', 'word7', { limit: 21 })],
    ['search for a phrase in one conversation, from a cursor', () => search.find('u1234', '"common word7"', { limit: 21, conversationId: 'c123', before: { at: new Date().toISOString(), conversationId: 'c123', seq: 2_000 } })],
  ];

  it.each(cases)('%s reads the big tables through their indexes, never a Seq Scan', async (_name, read) => {
    plans.length = 0;
    await read();
    expect(plans.length).toBeGreaterThan(0);
    for (const { sql, plan } of plans) {
      const big = scans(plan).filter((s) => (rowsOf.get(s['Relation Name']!) ?? 0) >= BIG_ROWS);
      const seq = big.filter((s) => s['Node Type'] === 'Seq Scan').map((s) => s['Relation Name']);
      expect({ sql, seq }).toEqual({ sql, seq: [] });
      // A read that touches a big table at all does so through an index.
      if (big.length) expect(big.every((s) => /Index/.test(s['Node Type']) || s['Node Type'] === 'Bitmap Heap Scan')).toBe(true);
    }
  });

  it('answers those reads with the rows the data holds', async () => {
    const large = ['c100', 'c10100', 'c15100', 'c5100'];
    expect((await reads.largeConversationsOf('u1000', 100)).sort()).toEqual(large);
    const many = await reads.largeConversationsOfMany(['u1000', 'u1001', 'u1234'], 100);
    expect(new Map([...many].map(([u, ids]) => [u, ids.sort()]))).toEqual(new Map([['u1000', large], ['u1001', large]]));
    const pushed = await reads.eventsAfter('u1234', [0, 0, 0, 0], 500);
    expect(pushed.reduce((n, p) => n + p.events.length, 0)).toBe(4 * INBOX_EACH);
    // Pulled: every event of the four large conversations (the user joined each at its first seq).
    const pulled = await reads.eventsAfter('u1000', [0, 0, 0, 0], 500);
    expect(pulled.reduce((n, p) => n + p.events.length, 0)).toBe(4 * EVENTS_EACH);
    // u2345 is in c234, c5234, c10234 and c15234 (small), joined at i*15 and left at
    // i*15 + 1; its inbox holds i*15, changed at i*15 + 1 (after it left: not shown), and
    // i*15 + 1, never changed (shown).
    const removed = await reads.eventsAfter('u2345', [0, 0, 0, 0], 500);
    expect(removed.flatMap((p) => p.events.map((e) => e.seq)).sort((a, b) => a - b)).toEqual([234, 5234, 10234, 15234].map((i) => i * EVENTS_EACH + 1));
    // u1234 shares c123 with u1230..u1239 (members i*10 + k); u0 shares nothing with it.
    expect([...(await reads.sharingAConversation('u1234', ['u1230', 'u1239', 'u1240', 'u0', 'u1234']))].sort()).toEqual(['u1230', 'u1234', 'u1239']);
  });
});
