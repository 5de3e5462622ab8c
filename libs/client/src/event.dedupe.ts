import type { ChatEvent } from '@chat/contracts';
import { eventKey, eventSignature } from './own.events.js';

/**
 * Lets each event through once by (conversationId, seq) (a read marker by conversation,
 * reader and marker), whether it came live, from sync, or was made from an own command's
 * ack. An event made from an ack only holds its place provisionally: the server's copy
 * with the same signature is then a duplicate, one with another signature is news (the ack
 * of a no-op named the seq of an event this client had not received yet).
 */
export class EventDedupe {
  /** key -> the signature of an event made from an ack, or null once the server's copy came. */
  private readonly seen = new Map<string, string | null>();

  constructor(private readonly keep = 10_000) {}

  /** A live or synced event: true the first time. */
  fromServer(e: ChatEvent): boolean {
    const key = eventKey(e);
    if (!this.seen.has(key)) {
      this.remember(key, null);
      return true;
    }
    const provisional = this.seen.get(key);
    if (provisional === null || provisional === undefined) return false;
    this.seen.set(key, null);
    return provisional !== eventSignature(e);
  }

  /** An event made from an own command's ack: true unless its place is taken already. */
  fromAck(e: ChatEvent): boolean {
    const key = eventKey(e);
    if (this.seen.has(key)) return false;
    this.remember(key, eventSignature(e));
    return true;
  }

  private remember(key: string, signature: string | null): void {
    this.seen.set(key, signature);
    // Bounded: the oldest keys go first (a Map iterates in insertion order).
    if (this.seen.size > this.keep) this.seen.delete(this.seen.keys().next().value!);
  }
}
