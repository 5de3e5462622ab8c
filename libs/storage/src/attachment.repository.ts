import type { Pool } from 'pg';

/** A granted upload, as `public.attachments` keeps it. */
export interface AttachmentRow {
  id: string;
  conversationId: string;
  ownerId: string;
  name: string;
  contentType: string;
  size: number;
  createdAt: string;
  /** The send that took it, if any. */
  clientMsgId: string | null;
  /** The seq of its message, once sent. */
  sentSeq: number | null;
}

interface Raw {
  id: string; conversation_id: string; owner_id: string; name: string; content_type: string; size: string;
  created_at: Date; client_msg_id: string | null; sent_seq: string | null;
}

const toRow = (r: Raw): AttachmentRow => ({
  id: r.id, conversationId: r.conversation_id, ownerId: r.owner_id, name: r.name, contentType: r.content_type, size: Number(r.size),
  createdAt: r.created_at.toISOString(), clientMsgId: r.client_msg_id, sentSeq: r.sent_seq === null ? null : Number(r.sent_seq),
});

/**
 * The attachments' rows (public.attachments) and the projection's queue of deleted
 * messages' attachments (attachment_deletions): the only SQL of attachments.
 */
export class AttachmentRepository {
  constructor(private readonly pool: Pool) {}

  async create(a: Pick<AttachmentRow, 'id' | 'conversationId' | 'ownerId' | 'name' | 'contentType' | 'size'>): Promise<void> {
    await this.pool.query(
      'INSERT INTO public.attachments (id, conversation_id, owner_id, name, content_type, size) VALUES ($1, $2, $3, $4, $5, $6)',
      [a.id, a.conversationId, a.ownerId, a.name, a.contentType, a.size],
    );
  }

  async get(ids: string[]): Promise<Map<string, AttachmentRow>> {
    const { rows } = await this.pool.query<Raw>('SELECT * FROM public.attachments WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(rows.map((r) => [r.id, toRow(r)]));
  }

  /** Is the attachment one of a deleted message (deleted in the log, its object maybe not yet)? */
  async deleted(id: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM attachment_deletions WHERE attachment_id = $1', [id])).rowCount ?? 0) > 0;
  }

  /**
   * Takes the attachments for one send: each must be the owner's, and free or already taken
   * by this same send (its retry). Returns how many it took; fewer than asked means a race
   * with another send.
   */
  async claim(ids: string[], ownerId: string, conversationId: string, clientMsgId: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.attachments SET client_msg_id = $4
        WHERE id = ANY($1::uuid[]) AND owner_id = $2 AND conversation_id = $3 AND (client_msg_id IS NULL OR client_msg_id = $4)`,
      [ids, ownerId, conversationId, clientMsgId],
    );
    return rowCount ?? 0;
  }

  /** The send was appended at `seq`: its attachments are sent, and never collected as unsent. */
  async markSent(ids: string[], seq: number): Promise<void> {
    await this.pool.query('UPDATE public.attachments SET sent_seq = $2 WHERE id = ANY($1::uuid[])', [ids, seq]);
  }

  /**
   * Attachments taken by a send that reached the log but not marked sent (the process died
   * between the append and the mark): the read model's client_msg_ids knows their seq.
   */
  async settleClaimed(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.attachments a SET sent_seq = m.seq FROM client_msg_ids m
        WHERE a.sent_seq IS NULL AND a.client_msg_id IS NOT NULL
          AND m.sender_id = a.owner_id AND m.client_msg_id = a.client_msg_id AND m.conversation_id = a.conversation_id`,
    );
    return rowCount ?? 0;
  }

  /** Uploads granted before `cutoff` and never sent, oldest first. */
  async unsentBefore(cutoff: Date, limit: number): Promise<Array<{ id: string; conversationId: string }>> {
    const { rows } = await this.pool.query<{ id: string; conversation_id: string }>(
      'SELECT id, conversation_id FROM public.attachments WHERE sent_seq IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2',
      [cutoff, limit],
    );
    return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id }));
  }

  /** Rows of unsent uploads whose objects are gone; one taken by a send meanwhile stays. */
  async removeUnsent(ids: string[]): Promise<void> {
    await this.pool.query('DELETE FROM public.attachments WHERE id = ANY($1::uuid[]) AND sent_seq IS NULL', [ids]);
  }

  /** Attachments of messages deleted in the log, whose objects are still to delete. */
  async deletions(limit: number): Promise<Array<{ id: string; conversationId: string }>> {
    const { rows } = await this.pool.query<{ attachment_id: string; conversation_id: string }>(
      'SELECT attachment_id, conversation_id FROM attachment_deletions ORDER BY seq LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ id: r.attachment_id, conversationId: r.conversation_id }));
  }

  /** Their objects are gone: so go their rows and their place in the queue. */
  async deletionsDone(ids: string[]): Promise<void> {
    await this.pool.query('DELETE FROM public.attachments WHERE id = ANY($1::uuid[])', [ids]);
    await this.pool.query('DELETE FROM attachment_deletions WHERE attachment_id = ANY($1)', [ids]);
  }
}
