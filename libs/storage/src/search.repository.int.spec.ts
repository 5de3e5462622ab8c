import type { Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import type { Message } from '@chat/contracts';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { BlobStore } from './blob.store';
import { encodeBlock } from './block.codec';
import { createPool } from './database';
import { ensureProjectionSchema, SEARCH } from './projection-schema';
import { CheckpointMovedError } from './projection.repository';
import { decodeSearchCursor, SearchProjectionRepository, SearchQueries, timelineVerdicts, type SearchWrites } from './search.repository';
import { TieredMessages } from './tiered-messages';

const S3 = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569';
const C = 'g_search';
const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const message = (seq: number, body: string): Message => ({ type: 'message', conversationId: C, seq, senderId: 'ann', clientMsgId: `m${seq}`, body, sentAt: at(seq) });

describe('search index on a real Postgres', () => {
  const db = useScratchDatabase('it_search');
  const prefix = `it-search-${randomBytes(4).toString('hex')}/`;
  let timeline: Pool;
  let index: Pool;
  let repo: SearchProjectionRepository;
  let queries: SearchQueries;
  let blobs: BlobStore;
  let fromSeq = 0;

  /** Commits the next batch of partition 0 (seqs up to `toSeq`). */
  async function commit(toSeq: number, w: Partial<SearchWrites>): Promise<void> {
    await repo.commit({ partition: 0, fromSeq, toSeq, inserts: [], edits: [], deletes: [], ...w });
    fromSeq = toSeq;
  }
  /** The seqs found, the same whether the words are checked on the user's messages (scan) or looked up in the GIN index. */
  const find = async (userId: string, text: string, opts: { conversationId?: string; limit?: number; before?: string } = {}) => {
    const read = async (scan: boolean) =>
      (await queries.find(userId, text, { scan, limit: opts.limit ?? 20, ...(opts.conversationId && { conversationId: opts.conversationId }), ...(opts.before && { before: decodeSearchCursor(opts.before)! }) })).map((h) => h.seq);
    const [scanned, indexed] = await Promise.all([read(true), read(false)]);
    expect(scanned).toEqual(indexed);
    return indexed;
  };

  beforeAll(async () => {
    timeline = db.pool;
    await ensureProjectionSchema(timeline, SEARCH);
    await ensureProjectionSchema(timeline, SEARCH); // a second start finds it built with this DDL
    index = createPool(db.url, 4, SEARCH);
    repo = new SearchProjectionRepository(index);
    queries = new SearchQueries(timeline);
    blobs = new BlobStore({ endpoint: S3, bucket: 'chat', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    await blobs.ensureBucket();
    expect(await repo.checkpoints([0])).toEqual(new Map([[0, 0]]));
    // ann: a member throughout; bob: seqs 10-19 and from 30 on; cat: never.
    await timeline.query(
      `INSERT INTO membership_periods (conversation_id, user_id, joined_seq, left_seq) VALUES ($1, 'ann', 1, NULL), ($1, 'bob', 10, 20), ($1, 'bob', 30, NULL)`,
      [C],
    );
  });
  afterAll(async () => {
    await index.end();
    blobs.close();
  });

  it('finds a message only inside the reader\'s membership periods, newest first', async () => {
    const bodies: Array<[number, string]> = [[5, 'orange before bob'], [10, 'orange as bob joins'], [15, 'orange with bob'], [20, 'orange as bob leaves'], [25, 'orange without bob'], [30, 'orange bob is back']];
    await commit(30, { inserts: bodies.map(([seq, body]) => ({ conversationId: C, seq, at: at(seq), body })) });
    expect(await find('ann', 'orange')).toEqual([30, 25, 20, 15, 10, 5]);
    // Joined at 10 (the event that added him): from it on; left at 20: not from it on.
    expect(await find('bob', 'orange')).toEqual([30, 15, 10]);
    expect(await find('bob', 'orange', { conversationId: C })).toEqual([30, 15, 10]);
    expect(await find('cat', 'orange')).toEqual([]);
    expect((await queries.plan('bob', 'orange', C)).member).toBe(true);
    expect((await queries.plan('cat', 'orange', C)).member).toBe(false);
    expect((await queries.plan('cat', 'orange')).member).toBe(true); // no conversation named: nothing to check
    // How many messages the user's conversations hold (their dense counters): how find reads.
    await timeline.query(
      `INSERT INTO conversations (id, partition, kind, created_by, created_at, last_seq, message_count, member_count, last_activity_at)
       VALUES ($1, 0, 'group', 'ann', now(), 100, 60, 2, now())`,
      [C],
    );
    expect((await queries.plan('bob', 'orange')).readable).toBe(60);
    expect((await queries.plan('cat', 'orange')).readable).toBe(0);
  });

  it('does not find, for a user who left, a message changed after it left; a member again finds it as it is', async () => {
    // bob: a member during 10-19 and again from 30 on. Seq 16 was reacted to at 18, seq 15 edited at 31.
    await commit(31, {
      inserts: [{ conversationId: C, seq: 16, at: at(16), body: 'peach with bob', changedSeq: 18 }],
      edits: [{ conversationId: C, seq: 15, body: 'orange with bob, edited later', changedSeq: 31 }],
    });
    expect(await find('bob', 'bob')).toEqual([30, 16, 15, 10]);
    // He leaves at 32: the edit at 31 happened while he was a member, so it is his to find.
    await timeline.query(`UPDATE membership_periods SET left_seq = 32 WHERE conversation_id = $1 AND user_id = 'bob' AND joined_seq = 30`, [C]);
    expect(await find('bob', 'edited')).toEqual([15]);
    // A reaction at 33, after he left: the hit would show it, so he no longer finds the message; the words stay for others.
    await commit(33, { edits: [{ conversationId: C, seq: 15, changedSeq: 33 }] });
    expect(await find('bob', 'bob')).toEqual([30, 16, 10]);
    expect(await find('bob', 'edited')).toEqual([]);
    expect(await find('ann', 'edited')).toEqual([15]);
    // Back as a member: the current state is his to read again.
    await timeline.query(`UPDATE membership_periods SET left_seq = NULL WHERE conversation_id = $1 AND user_id = 'bob' AND joined_seq = 30`, [C]);
    expect(await find('bob', 'edited')).toEqual([15]);
  });

  it('ANDs words and matches a quoted phrase in order, case-insensitively, without stemming', async () => {
    await commit(40, {
      inserts: [
        { conversationId: C, seq: 31, at: at(31), body: 'The quick brown fox' },
        { conversationId: C, seq: 32, at: at(32), body: 'brown and quick' },
        { conversationId: C, seq: 33, at: at(33), body: 'foxes are quick' },
      ],
    });
    expect(await find('ann', 'quick brown')).toEqual([32, 31]);
    expect(await find('ann', '"quick brown"')).toEqual([31]);
    expect(await find('ann', 'QUICK fox')).toEqual([31]);
    expect(await find('ann', 'quick -brown')).toEqual([33]);
    for (const empty of ['"" - or', '-quick', '!!!', '""', ' & | ']) expect({ empty, is: (await queries.plan('ann', empty)).empty }).toEqual({ empty, is: true });
    expect((await queries.plan('ann', 'quick -brown')).empty).toBe(false);
  });

  it('indexes an edit by its new text only and forgets a deleted message; a redelivered batch changes nothing', async () => {
    await commit(45, { inserts: [{ conversationId: C, seq: 41, at: at(41), body: 'lemon tart' }, { conversationId: C, seq: 42, at: at(42), body: 'lemon cake' }] });
    await commit(47, { edits: [{ conversationId: C, seq: 41, body: 'lime tart', changedSeq: 46 }], deletes: [{ conversationId: C, seq: 42 }] });
    expect(await find('ann', 'lemon')).toEqual([]);
    expect(await find('ann', 'lime')).toEqual([41]);
    // The same batch again (a redelivery after a crash before the ack): its start is behind the checkpoint.
    await expect(repo.commit({ partition: 0, fromSeq: 45, toSeq: 47, inserts: [], edits: [{ conversationId: C, seq: 41, body: 'lemon tart', changedSeq: 46 }], deletes: [] })).rejects.toBeInstanceOf(CheckpointMovedError);
    expect(await find('ann', 'lime')).toEqual([41]);
  });

  it('pages newest first by time, then conversation and seq, with no hit twice or missed', async () => {
    const other = 'g_search2';
    await timeline.query(`INSERT INTO membership_periods (conversation_id, user_id, joined_seq, left_seq) VALUES ($1, 'ann', 1, NULL)`, [other]);
    // Two conversations, messages at the same instant in both: the order still is total.
    await commit(60, {
      inserts: [
        ...[51, 52, 53, 54, 55].map((seq) => ({ conversationId: C, seq, at: at(50), body: 'plum' })),
        ...[3, 4].map((seq) => ({ conversationId: other, seq, at: at(50), body: 'plum' })),
      ],
    });
    const all = (await queries.find('ann', 'plum', { limit: 50 })).map((h) => `${h.conversationId}:${h.seq}`);
    expect(all).toEqual([`${other}:4`, `${other}:3`, `${C}:55`, `${C}:54`, `${C}:53`, `${C}:52`, `${C}:51`]);
    const paged: string[] = [];
    for (let before: SearchWrites['inserts'][number] | undefined, round = 0; round < 10; round++) {
      const page = await queries.find('ann', 'plum', { limit: 3, ...(before && { before: { at: before.at, conversationId: before.conversationId, seq: before.seq } }) });
      paged.push(...page.map((h) => `${h.conversationId}:${h.seq}`));
      if (page.length < 3) break;
      const last = page[page.length - 1]!;
      before = { conversationId: last.conversationId, seq: last.seq, at: last.at, body: '' };
    }
    expect(paged).toEqual(all);
  });

  it('finds an archived message, whose page comes from the cold tier with its later edit laid over', async () => {
    const cold = [message(61, 'quince in a cold block'), message(62, 'another cold line')];
    const block = encodeBlock(cold);
    const key = `${prefix}${C}/61`;
    await blobs.put(key, block.data);
    await timeline.query(
      `INSERT INTO cold_manifest (conversation_id, first_seq, last_seq, message_count, key, codec, raw_bytes, stored_bytes, checksum, oldest_at, newest_at)
       VALUES ($1, 61, 62, 2, $2, $3, $4, $5, $6, $7, $8)`,
      [C, key, block.codec, block.rawBytes, block.data.length, block.checksum, at(61), at(62)],
    );
    await timeline.query('INSERT INTO tier_patches (conversation_id, seq, payload) VALUES ($1, 62, $2)', [C, { ...message(62, 'another cold quince'), editedAt: at(70) }]);
    await commit(70, { inserts: cold.map((m) => ({ conversationId: C, seq: m.seq, at: m.sentAt, body: m.body })) });
    await commit(71, { edits: [{ conversationId: C, seq: 62, body: 'another cold quince', changedSeq: 71 }] });
    const hits = await queries.find('ann', 'quince', { limit: 20 });
    expect(hits.map((h) => h.seq)).toEqual([62, 61]);
    const pages = await new TieredMessages(timeline, blobs).many(hits);
    expect([...pages.values()].map((m) => [m.seq, m.body]).sort()).toEqual([[61, 'quince in a cold block'], [62, 'another cold quince']]);
  });

  it('reads the timeline\'s verdicts: a send counts if projected at its own seq, any event the rules refused does not', async () => {
    await timeline.query(
      `INSERT INTO client_msg_ids (sender_id, client_msg_id, conversation_id, seq, sent_at) VALUES ('ann', 'first', $1, 100, now())`,
      [C],
    );
    await timeline.query(`INSERT INTO rejected_events (partition, seq, conversation_id, code, reason) VALUES (0, 102, $1, 'FORBIDDEN', 'not a member'), (0, 200, $1, 'X', 'outside the range')`, [C]);
    const v = await timelineVerdicts(timeline, 0, { fromSeq: 99, toSeq: 103 }, [
      { senderId: 'ann', clientMsgId: 'first', seq: 100 },
      // A copy of the same send further in the log: not a message of its own.
      { senderId: 'ann', clientMsgId: 'first', seq: 101 },
      { senderId: 'mallory', clientMsgId: 'x', seq: 102 },
    ]);
    expect([...v.accepted]).toEqual([100]);
    expect([...v.refused]).toEqual([102]);
  });
});
