import type { ConversationEvent } from '@chat/domain';
import { foldSearchBatch, sendsOf, type Verdicts } from './search.projection';
import type { LoggedEvent } from './timeline.projection';

const C = 'g_fold';
const AT = '2026-01-01T00:00:00.000Z';
const sent = (seq: number, body: string): LoggedEvent => ({ seq, conversationId: C, event: { type: 'MessageSent', v: 1, conversationId: C, senderId: 'ann', clientMsgId: `m${seq}`, body, at: AT } as ConversationEvent });
const edited = (seq: number, targetSeq: number, body: string): LoggedEvent => ({ seq, conversationId: C, event: { type: 'MessageEdited', v: 1, conversationId: C, by: 'ann', targetSeq, body, at: AT } as ConversationEvent });
const deleted = (seq: number, targetSeq: number): LoggedEvent => ({ seq, conversationId: C, event: { type: 'MessageDeleted', v: 1, conversationId: C, by: 'ann', targetSeq, at: AT } as ConversationEvent });
const verdicts = (accepted: number[], refused: number[] = []): Verdicts => ({ accepted: new Set(accepted), refused: new Set(refused) });

describe('foldSearchBatch (the search index follows the timeline\'s verdicts)', () => {
  it('indexes the sends the timeline projected, with the batch\'s later edits folded in', () => {
    const events = [sent(1, 'first'), sent(2, 'copy or refused'), edited(3, 1, 'first, edited'), edited(4, 1, 'first, edited twice')];
    const w = foldSearchBatch(0, 0, events, verdicts([1]));
    expect(w).toEqual({ partition: 0, fromSeq: 0, toSeq: 4, inserts: [{ conversationId: C, seq: 1, at: AT, body: 'first, edited twice', changedSeq: 4 }], edits: [], deletes: [] });
    expect(sendsOf(events)).toEqual([{ senderId: 'ann', clientMsgId: 'm1', seq: 1 }, { senderId: 'ann', clientMsgId: 'm2', seq: 2 }]);
  });

  it('edits and deletes messages of earlier batches; a delete wins over an edit before it; refused events change nothing', () => {
    const w = foldSearchBatch(0, 10, [edited(11, 3, 'new text'), edited(12, 4, 'edit then delete'), deleted(13, 4), edited(14, 5, 'refused edit'), deleted(15, 6), sent(16, 'sent and deleted'), deleted(17, 16)], verdicts([16], [14, 15]));
    expect(w.inserts).toEqual([]);
    expect(w.edits).toEqual([{ conversationId: C, seq: 3, body: 'new text', changedSeq: 11 }]);
    expect(w.deletes).toEqual([{ conversationId: C, seq: 4 }, { conversationId: C, seq: 16 }]);
    expect(w.toSeq).toBe(17);
  });

  it('records reactions as changes that keep the words, after an edit of the batch or alone', () => {
    const react = (seq: number, targetSeq: number): LoggedEvent => ({ seq, conversationId: C, event: { type: 'ReactionAdded', v: 1, conversationId: C, userId: 'bob', targetSeq, emoji: '👍', at: AT } as ConversationEvent });
    const w = foldSearchBatch(0, 30, [edited(31, 3, 'edited'), react(32, 3), react(33, 4), sent(34, 'new'), react(35, 34)], verdicts([34]));
    expect(w.edits).toEqual([{ conversationId: C, seq: 3, body: 'edited', changedSeq: 32 }, { conversationId: C, seq: 4, changedSeq: 33 }]);
    expect(w.inserts).toEqual([{ conversationId: C, seq: 34, at: AT, body: 'new', changedSeq: 35 }]);
  });

  it('skips events that were not readable and every other kind of event, and keeps the checkpoint moving', () => {
    const w = foldSearchBatch(1, 20, [{ seq: 21, conversationId: C, event: undefined }, { seq: 22, conversationId: C, event: { type: 'ReadMarked', v: 2, conversationId: C, userId: 'ann', upToSeq: 3, at: AT } as ConversationEvent }], verdicts([]));
    expect(w).toEqual({ partition: 1, fromSeq: 20, toSeq: 22, inserts: [], edits: [], deletes: [] });
  });
});
