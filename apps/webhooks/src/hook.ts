import type { ChatEvent } from '@chat/contracts';

/**
 * The body of one webhook call: one conversation event. `seq` is the event's place in the
 * log (for a `read` event, `event.seq` is the marker instead); `id` is the same on every
 * try and every replay of that event, so the receiver drops what it has seen.
 */
export interface Hook {
  id: string;
  type: ChatEvent['type'];
  conversationId: string;
  seq: number;
  event: ChatEvent;
}

/** `<conversationId>:<seq>`: conversation ids hold no `:` (their alphabet is `[A-Za-z0-9_-]`). */
export function hookId(conversationId: string, seq: number): string {
  return `${conversationId}:${seq}`;
}

export function hookOf(conversationId: string, seq: number, event: ChatEvent): Hook {
  return { id: hookId(conversationId, seq), type: event.type, conversationId, seq, event };
}
