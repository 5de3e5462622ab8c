import type { OnlineRange } from '@chat/storage';

/**
 * The `online` decisions of a flush interval, folded into ranges: one per user and
 * conversation for as long as each next message of the conversation finds the user online.
 * Any other decision about that user and conversation ends the range (the next `online`
 * starts another), and so does a message that is not past the range's end (a redelivery,
 * or one retried after later ones), so that a range never claims a message it did not see
 * and `messages` counts exactly what it covers.
 */
export class OnlineRanges {
  private readonly open = new Map<string, OnlineRange>();
  private closed: OnlineRange[] = [];

  /** Ranges held, open and closed. */
  get size(): number {
    return this.open.size + this.closed.length;
  }

  add(userId: string, conversationId: string, seq: number): void {
    const key = keyOf(userId, conversationId);
    const range = this.open.get(key);
    if (range && seq > range.toSeq) {
      range.toSeq = seq;
      range.messages++;
      return;
    }
    if (range) this.closed.push(range);
    this.open.set(key, { userId, conversationId, fromSeq: seq, toSeq: seq, messages: 1 });
  }

  /** Another decision was made about this user and conversation: the open range ends. */
  interrupt(userId: string, conversationId: string): void {
    const key = keyOf(userId, conversationId);
    const range = this.open.get(key);
    if (!range) return;
    this.open.delete(key);
    this.closed.push(range);
  }

  /** Ranges taken but not written after all: they are held again, to be written next time. */
  restore(ranges: OnlineRange[]): void {
    this.closed = [...ranges, ...this.closed];
  }

  /** Every range held, which this then forgets. */
  take(): OnlineRange[] {
    const all = [...this.closed, ...this.open.values()];
    this.closed = [];
    this.open.clear();
    return all;
  }
}

function keyOf(userId: string, conversationId: string): string {
  return `${conversationId}\n${userId}`;
}
