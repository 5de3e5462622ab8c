import type { ConversationKind } from './events';
import type { ConversationId, UserId } from './ids';

/** What the rules need to know about a conversation at one point of its log. */
export interface Conversation {
  id: ConversationId;
  kind: ConversationKind;
  title?: string;
  createdBy: UserId;
  createdAt: string;
  members: ReadonlySet<UserId>;
  /** Seq of the last event applied (any kind). */
  lastSeq: number;
  /** Dense count of messages: the n-th message has number n. Unread counts derive from it. */
  messageCount: number;
}

/** `undefined` is a conversation whose log holds no (accepted) creation yet. */
export type ConversationState = Conversation | undefined;
