import type { Pool } from 'pg';
import type { ChatEvent } from '@chat/contracts';
import type { TieredMessages } from './tiered-messages';

/** What the read model says of one entry of the log, for its webhook. */
export type HookedEvent =
  /** An event members see: as `sync` returns it now (a message with its latest state). */
  | { kind: 'event'; event: ChatEvent }
  /** The projection refused it at its place in the log (`rejected_events`): nobody sees it. */
  | { kind: 'refused'; code: string }
  /** Neither shown nor refused any more: an event other than a message older than the read model keeps. */
  | { kind: 'gone' };

/**
 * The webhook sender's reads: for entries of the log the projection has committed, the
 * event that members see, or why there is none. One statement per batch of entries; the
 * archived tiers only for what the hot timeline no longer holds (a replay of old history).
 */
export class WebhookRepository {
  constructor(
    private readonly pool: Pool,
    private readonly tiered: Pick<TieredMessages, 'at'>,
  ) {}

  /** `message`: the entry is a send (only messages are looked for in the archived tiers). */
  async events(partition: number, entries: ReadonlyArray<{ conversationId: string; seq: number; message: boolean }>): Promise<Map<number, HookedEvent>> {
    const out = new Map<number, HookedEvent>();
    if (entries.length === 0) return out;
    const { rows } = await this.pool.query<{ seq: string; payload: ChatEvent | null; code: string | null }>(
      `SELECT x.seq, t.payload, r.code
         FROM unnest($2::text[], $3::bigint[]) AS x(conversation_id, seq)
         LEFT JOIN LATERAL (SELECT payload FROM timeline t WHERE t.conversation_id = x.conversation_id AND t.seq = x.seq LIMIT 1) t ON true
         LEFT JOIN rejected_events r ON r.partition = $1 AND r.seq = x.seq`,
      [partition, entries.map((e) => e.conversationId), entries.map((e) => e.seq)],
    );
    const missing = new Map<string, number[]>();
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    for (const r of rows) {
      const seq = Number(r.seq);
      if (r.payload !== null) out.set(seq, { kind: 'event', event: r.payload });
      else if (r.code !== null) out.set(seq, { kind: 'refused', code: r.code });
      else if (bySeq.get(seq)!.message) {
        const id = bySeq.get(seq)!.conversationId;
        missing.set(id, [...(missing.get(id) ?? []), seq]);
      } else out.set(seq, { kind: 'gone' });
    }
    // Moved to the warm or cold tier by the archiver: messages are kept there for good.
    for (const [conversationId, seqs] of missing) {
      const archived = await this.tiered.at(conversationId, seqs);
      for (const seq of seqs) {
        const message = archived.get(seq);
        out.set(seq, message ? { kind: 'event', event: message } : { kind: 'gone' });
      }
    }
    return out;
  }
}
