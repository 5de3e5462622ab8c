import type { Pool } from 'pg';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { ensureDatabase } from './database';
import { migrate } from './migrate';
import { ensureProjectionSchema, TIMELINE } from './projection-schema';
import { CheckpointMovedError, ProjectionRepository, SendsProjectedBeforeError } from './projection.repository';
import { emptyWrites, type ProjectionWrites } from './projection.rows';
import { ReadModelRepository } from './read-model.repository';

describe('projection repository on a real Postgres', () => {
  const scratch = useScratchDatabase('it_proj', { poolSize: 10, schema: false });
  let pool: Pool;
  let repo: ProjectionRepository;
  let reads: ReadModelRepository;

  beforeAll(async () => {
    await ensureDatabase(scratch.url); // a second start finds it
    pool = scratch.pool;
    expect(await migrate(pool)).toEqual(['001_projections.sql', '002_push.sql', '003_push_online_ranges.sql', '004_blocked_users.sql', '005_attachments.sql']);
    expect(await migrate(pool)).toEqual([]);
    await ensureProjectionSchema(pool, TIMELINE);
    await ensureProjectionSchema(pool, TIMELINE); // a second start finds it built with this DDL
    repo = new ProjectionRepository(pool);
    reads = new ReadModelRepository(pool);
  });

  function batch(fromSeq: number, toSeq: number, build: (w: ProjectionWrites) => void = () => undefined): ProjectionWrites {
    const w = emptyWrites(0, fromSeq);
    w.toSeq = toSeq;
    build(w);
    return w;
  }

  it('starts every partition at checkpoint 0', async () => {
    expect(await repo.checkpoints([0, 1])).toEqual(new Map([[0, 0], [1, 0]]));
  });

  it('commits rows and the checkpoint together, and refuses a batch whose start another writer passed', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const message = { type: 'message' as const, conversationId: 'g_1', seq: 2, senderId: 'a', clientMsgId: 'c1', body: 'hi', sentAt: at };
    await repo.commit(
      batch(0, 2, (w) => {
        w.conversations.push({ id: 'g_1', kind: 'group', title: 't', createdBy: 'a', createdAt: at, directKey: null, lastSeq: 2, messageCount: 1, memberCount: 2, everPulled: false, lastActivityAt: at, lastMessage: message });
        w.memberInserts.push({ conversationId: 'g_1', userId: 'a', joinedSeq: 1 }, { conversationId: 'g_1', userId: 'b', joinedSeq: 1 });
        w.timeline.push({ conversationId: 'g_1', seq: 2, kind: 'message', messageNo: 1, targetSeq: null, pulled: false, payload: message, at, changedSeq: null });
        w.clientMsgIds.push({ senderId: 'a', clientMsgId: 'c1', conversationId: 'g_1', seq: 2, sentAt: at });
        w.inbox.push({ userId: 'a', seq: 2, conversationId: 'g_1' }, { userId: 'b', seq: 2, conversationId: 'g_1' });
        w.readMarkers.push({ conversationId: 'g_1', userId: 'b', seq: 2 });
      }),
    );
    expect((await repo.checkpoints([0])).get(0)).toBe(2);
    const [summary] = await reads.listConversations('b', 10);
    expect(summary).toMatchObject({ id: 'g_1', unread: 0, lastReadSeq: 2, memberCount: 2, lastMessage: message });

    // The same batch again (a second projector, or a replayed commit) must not apply.
    await expect(repo.commit(batch(0, 2))).rejects.toBeInstanceOf(CheckpointMovedError);
    expect((await repo.checkpoints([0])).get(0)).toBe(2);
  });

  it('refuses a batch holding a copy of a send projected before, naming it, and writes nothing of it', async () => {
    const at = '2026-01-01T00:00:01.000Z';
    const copy = batch(2, 4, (w) => {
      w.inbox.push({ userId: 'b', seq: 3, conversationId: 'g_1' });
      w.clientMsgIds.push({ senderId: 'a', clientMsgId: 'c2', conversationId: 'g_1', seq: 3, sentAt: at }, { senderId: 'a', clientMsgId: 'c1', conversationId: 'g_1', seq: 4, sentAt: at });
    });
    const refused = await repo.commit(copy).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(SendsProjectedBeforeError);
    expect((refused as SendsProjectedBeforeError).pairs).toEqual([['a', 'c1']]);
    expect((await repo.checkpoints([0])).get(0)).toBe(2);
    expect((await pool.query(`SELECT count(*)::int AS n FROM client_msg_ids WHERE client_msg_id = 'c2'`)).rows[0].n).toBe(0);
    expect((await pool.query(`SELECT count(*)::int AS n FROM inbox WHERE seq = 3`)).rows[0].n).toBe(0);
  });

  it('rolls back every row of a batch that fails', async () => {
    const bad = batch(2, 3, (w) => {
      w.inbox.push({ userId: 'z', seq: 3, conversationId: 'g_1' });
      // timestamps that do not parse make the batch fail half way
      w.timeline.push({ conversationId: 'g_1', seq: 3, kind: 'message', messageNo: 2, targetSeq: null, pulled: false, payload: { type: 'read', conversationId: 'g_1', userId: 'z', seq: 1 }, at: 'not a time', changedSeq: null });
    });
    await expect(repo.commit(bad)).rejects.toThrow();
    expect((await repo.checkpoints([0])).get(0)).toBe(2);
    expect((await pool.query(`SELECT count(*)::int AS n FROM inbox WHERE user_id = 'z'`)).rows[0].n).toBe(0);
  });

  it('gives a direct pair\'s key to its first conversation and keeps a second one of the pair without it', async () => {
    const at = '2026-01-01T00:00:02.000Z';
    const direct = (id: string) => ({
      id, kind: 'direct' as const, title: null, createdBy: 'a', createdAt: at, directKey: 'a\nb', lastSeq: 1, messageCount: 0, memberCount: 2, everPulled: false,
    });
    await repo.checkpoints([2]);
    await repo.commit({ ...batch(0, 0), partition: 2, fromSeq: 0, toSeq: 1, conversations: [direct('d_first')] });
    // Ids derived with another key (a rolling upgrade, a changed CHAT_ID_SECRET): the same pair again.
    await repo.commit({ ...batch(0, 0), partition: 2, fromSeq: 1, toSeq: 2, conversations: [direct('d_second')] });
    expect(await reads.directConversationId('a\nb')).toBe('d_first');
    const { rows } = await pool.query(`SELECT id, direct_key FROM conversations WHERE id LIKE 'd_%' ORDER BY id`);
    expect(rows).toEqual([{ id: 'd_first', direct_key: 'a\nb' }, { id: 'd_second', direct_key: null }]);
  });

  it('shows a removed member the rows changed before its removal, and none changed after it, pushed or pulled', async () => {
    const at = '2026-01-01T00:00:03.000Z';
    const msg = (seq: number, body: string) => ({ type: 'message' as const, conversationId: 'g_rm', seq, senderId: 'a', clientMsgId: `rm${seq}`, body, sentAt: at });
    // g_rm in partition 3: bob was a member from 1 to his removal at 20, carol still is.
    // Message 2 was last changed at 10 (bob saw that), 3 at 30 (after he left), 4 never.
    const rows = [
      { seq: 2, body: 'edited at 10', changedSeq: 10 },
      { seq: 3, body: 'edited at 30', changedSeq: 30 },
      { seq: 4, body: 'as sent', changedSeq: null },
    ];
    for (const pulled of [false, true]) {
      const id = pulled ? 'g_rmpull' : 'g_rm';
      await pool.query('DELETE FROM checkpoints WHERE partition = 3');
      await repo.checkpoints([3]);
      await repo.commit({
        ...batch(0, 0), partition: 3, fromSeq: 0, toSeq: 40,
        conversations: [{ id, kind: 'group', title: null, createdBy: 'a', createdAt: at, directKey: null, lastSeq: 40, messageCount: 3, memberCount: 2, everPulled: pulled }],
        timeline: rows.map((r) => ({ conversationId: id, seq: r.seq, kind: 'message', messageNo: r.seq - 1, targetSeq: null, pulled, payload: { ...msg(r.seq, r.body), conversationId: id }, at, changedSeq: r.changedSeq })),
        inbox: pulled ? [] : rows.flatMap((r) => [{ userId: 'bob', seq: r.seq, conversationId: id }, { userId: 'carol', seq: r.seq, conversationId: id }]),
        periodInserts: [{ conversationId: id, userId: 'bob', joinedSeq: 1, leftSeq: 20 }, { conversationId: id, userId: 'carol', joinedSeq: 1, leftSeq: null }],
      });
      const seqsOf = async (user: string) => (await reads.eventsAfter(user, [0, 0, 0, 0], 100)).find((p) => p.partition === 3)!.events.map((e) => e.seq);
      expect({ pulled, bob: await seqsOf('bob'), carol: await seqsOf('carol') }).toEqual({ pulled, bob: [2, 4], carol: [2, 3, 4] });
      // Back as a member (a new open period): he reads the conversation's history again, so its current state.
      await repo.commit({ ...batch(0, 0), partition: 3, fromSeq: 40, toSeq: 50, periodInserts: [{ conversationId: id, userId: 'bob', joinedSeq: 45, leftSeq: null }] });
      expect(await seqsOf('bob')).toEqual([2, 3, 4]);
      await pool.query(`DELETE FROM inbox WHERE partition = 3`);
      await pool.query(`DELETE FROM membership_periods WHERE conversation_id = $1`, [id]);
      await pool.query(`DELETE FROM timeline WHERE conversation_id = $1`, [id]);
    }
  });

  it('reads a user\'s inbox after a watermark, only up to the checkpoint', async () => {
    const parts = await reads.eventsAfter('b', [0], 10);
    expect(parts.find((p) => p.partition === 0)).toMatchObject({ after: 0, upto: 2, events: [{ seq: 2 }] });
    const none = await reads.eventsAfter('b', [2], 10);
    expect(none.find((p) => p.partition === 0)?.events).toEqual([]);
  });
});
