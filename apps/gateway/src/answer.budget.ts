/**
 * How much one query answer may carry (CHAT_MAX_ANSWER_BYTES): items are taken while they
 * fit, and the answer says "more" with its usual cursor, so the client pages on. Sizes are
 * the JSON text's length, what Socket.IO's encoder builds and holds until it is written.
 * The first item of an answer is always taken, whatever its size, so paging progresses.
 */
export class AnswerBudget {
  private left: number;
  private taken = 0;

  constructor(readonly bytes: number) {
    this.left = bytes;
  }

  /** Bytes the items taken so far cost. */
  get spent(): number {
    return this.bytes - this.left;
  }

  /** Spent: an item did not fit, and none after it is taken either (an answer is a prefix). */
  exhausted = false;

  /** Spends on `item` if it fits (or is the answer's first); false from the first that does not. */
  take(item: unknown): boolean {
    if (this.exhausted) return false;
    const size = jsonSize(item);
    if (size > this.left && this.taken > 0) {
      this.exhausted = true;
      return false;
    }
    this.left -= size;
    this.taken++;
    return true;
  }

  /** The leading items that fit, in order (a list ordered newest activity first, a sync stretch). */
  leading<T>(items: readonly T[], measured: (item: T) => unknown = (item) => item): T[] {
    let n = 0;
    while (n < items.length && this.take(measured(items[n]!))) n++;
    return items.slice(0, n);
  }

  /** The trailing items that fit (the newest of an ascending history page), still ascending. */
  trailing<T>(items: readonly T[]): T[] {
    let n = 0;
    while (n < items.length && this.take(items[items.length - 1 - n])) n++;
    return items.slice(items.length - n);
  }
}

export const jsonSize = (value: unknown): number => JSON.stringify(value)?.length ?? 0;
