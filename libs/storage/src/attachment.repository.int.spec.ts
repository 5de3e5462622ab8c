import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { AttachmentRepository } from './attachment.repository';

describe('the attachments\' rows on a real Postgres', () => {
  const scratch = useScratchDatabase('it_attach');
  let pool: Pool;
  let rows: AttachmentRepository;
  const file = (ownerId = 'ann', conversationId = 'g_a') => ({ id: randomUUID(), conversationId, ownerId, name: 'a.txt', contentType: 'text/plain', size: 3 });

  beforeAll(() => {
    pool = scratch.pool;
    rows = new AttachmentRepository(pool);
  });

  it('lets one send take an attachment, again on its retry, never another send or another owner', async () => {
    const a = file();
    await rows.create(a);
    expect((await rows.get([a.id])).get(a.id)).toEqual(expect.objectContaining({ ...a, clientMsgId: null, sentSeq: null }));
    expect(await rows.claim([a.id], 'bob', 'g_a', 'm1')).toBe(0);
    expect(await rows.claim([a.id], 'ann', 'g_b', 'm1')).toBe(0);
    expect(await rows.claim([a.id], 'ann', 'g_a', 'm1')).toBe(1);
    expect(await rows.claim([a.id], 'ann', 'g_a', 'm1')).toBe(1);
    expect(await rows.claim([a.id], 'ann', 'g_a', 'm2')).toBe(0);
    await rows.markSent([a.id], 7);
    expect((await rows.get([a.id])).get(a.id)).toEqual(expect.objectContaining({ clientMsgId: 'm1', sentSeq: 7 }));
  });

  it('collects unsent uploads past the cutoff, keeps one whose send reached the log, and works off the deletions queue', async () => {
    const unsent = file();
    const appended = file();
    const recent = file();
    for (const a of [unsent, appended, recent]) await rows.create(a);
    await pool.query(`UPDATE public.attachments SET created_at = now() - interval '2 days' WHERE id = ANY($1::uuid[])`, [[unsent.id, appended.id]]);
    // The send of `appended` reached the log (client_msg_ids has it) but died before marking it.
    await rows.claim([appended.id], 'ann', 'g_a', 'm9');
    await pool.query(`INSERT INTO client_msg_ids (sender_id, client_msg_id, conversation_id, seq, sent_at) VALUES ('ann', 'm9', 'g_a', 12, now())`);
    expect(await rows.settleClaimed()).toBe(1);
    const due = await rows.unsentBefore(new Date(Date.now() - 86_400_000), 100);
    expect(due).toEqual([{ id: unsent.id, conversationId: 'g_a' }]);
    await rows.removeUnsent(due.map((a) => a.id));
    expect([...(await rows.get([unsent.id, appended.id, recent.id])).keys()].sort()).toEqual([appended.id, recent.id].sort());
    expect((await rows.get([appended.id])).get(appended.id)?.sentSeq).toBe(12);

    await pool.query(`INSERT INTO attachment_deletions (attachment_id, conversation_id, seq) VALUES ($1, 'g_a', 20)`, [appended.id]);
    expect(await rows.deleted(appended.id)).toBe(true);
    expect(await rows.deletions(10)).toEqual([{ id: appended.id, conversationId: 'g_a' }]);
    await rows.deletionsDone([appended.id]);
    expect(await rows.deletions(10)).toEqual([]);
    expect((await rows.get([appended.id])).size).toBe(0);
    // Done again (a replay queued it once more): nothing left to do, nothing fails.
    await pool.query(`INSERT INTO attachment_deletions (attachment_id, conversation_id, seq) VALUES ($1, 'g_a', 20)`, [appended.id]);
    await rows.deletionsDone([appended.id]);
    expect(await rows.deletions(10)).toEqual([]);
  });
});
