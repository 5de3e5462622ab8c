import type { SearchWrites } from '@chat/storage';
import { messageKey } from '@chat/storage';
import type { LoggedEvent } from './timeline.projection';

/** The timeline's verdicts on a batch's events (timelineVerdicts). */
export interface Verdicts {
  /** Seqs of the batch's sends that the timeline projected as messages. */
  accepted: ReadonlySet<number>;
  /** Seqs of the batch's events the rules refused. */
  refused: ReadonlySet<number>;
}

/** The sends of a batch, which the verdicts are asked about. */
export function sendsOf(events: LoggedEvent[]): Array<{ senderId: string; clientMsgId: string; seq: number }> {
  return events.flatMap((e) => (e.event?.type === 'MessageSent' ? [{ senderId: e.event.senderId, clientMsgId: e.event.clientMsgId, seq: e.seq }] : []));
}

/**
 * Folds a batch into index writes. The rules are not decided again: a send counts if the
 * timeline projected it, an edit, reaction or delete if the timeline did not refuse it (an
 * edit of a deleted message is refused there). Within the batch a message's later changes
 * and its delete are folded into what the batch writes for it, so the statement needs no
 * order beyond inserts, then changes, then deletes.
 */
export function foldSearchBatch(partition: number, fromSeq: number, events: LoggedEvent[], verdicts: Verdicts): SearchWrites {
  const inserts = new Map<string, SearchWrites['inserts'][number]>();
  const edits = new Map<string, SearchWrites['edits'][number]>();
  const deletes = new Map<string, SearchWrites['deletes'][number]>();
  /** An edit (`body`) or a reaction (no body) of the message at `targetSeq`, by the event at `seq`. */
  const change = (conversationId: string, targetSeq: number, seq: number, body?: string) => {
    const key = messageKey(conversationId, targetSeq);
    const sent = inserts.get(key);
    if (sent) {
      if (body !== undefined) sent.body = body;
      sent.changedSeq = seq;
    } else if (!deletes.has(key)) {
      const earlier = edits.get(key);
      const text = body ?? earlier?.body;
      edits.set(key, { conversationId, seq: targetSeq, ...(text !== undefined && { body: text }), changedSeq: seq });
    }
  };
  for (const { seq, conversationId, event } of events) {
    if (!event || verdicts.refused.has(seq)) continue;
    switch (event.type) {
      case 'MessageSent':
        if (verdicts.accepted.has(seq)) inserts.set(messageKey(conversationId, seq), { conversationId, seq, at: event.at, body: event.body });
        break;
      case 'MessageEdited':
        change(conversationId, event.targetSeq, seq, event.body);
        break;
      case 'ReactionAdded':
      case 'ReactionRemoved':
        // The words stay; the change counts for who may still find the message (changed_seq).
        change(conversationId, event.targetSeq, seq);
        break;
      case 'MessageDeleted': {
        const key = messageKey(conversationId, event.targetSeq);
        inserts.delete(key);
        edits.delete(key);
        deletes.set(key, { conversationId, seq: event.targetSeq });
        break;
      }
      default:
        // Every other event leaves the words of messages as they are.
        break;
    }
  }
  const toSeq = events.length ? events[events.length - 1]!.seq : fromSeq;
  return { partition, fromSeq, toSeq, inserts: [...inserts.values()], edits: [...edits.values()], deletes: [...deletes.values()] };
}
