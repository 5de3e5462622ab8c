import type { ConversationId, UserId } from './ids';

export type ConversationKind = 'direct' | 'group';

/**
 * Every change to a conversation, as appended to its subject in the log. The stream
 * sequence of the event is its `seq`; it is not part of the payload because JetStream
 * assigns it. `at` is the gateway's clock when it accepted the command.
 */
export type ConversationEvent =
  | ConversationCreated
  | MembersAdded
  | MembersRemoved
  | MessageSent
  | ReadMarked;

export interface ConversationCreated {
  type: 'ConversationCreated';
  v: 1;
  conversationId: ConversationId;
  kind: ConversationKind;
  members: UserId[];
  title?: string;
  createdBy: UserId;
  at: string;
}

export interface MembersAdded {
  type: 'MembersAdded';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  userIds: UserId[];
  at: string;
}

export interface MembersRemoved {
  type: 'MembersRemoved';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  userIds: UserId[];
  at: string;
}

export interface MessageSent {
  type: 'MessageSent';
  v: 1;
  conversationId: ConversationId;
  senderId: UserId;
  clientMsgId: string;
  body: string;
  replyToSeq?: number;
  at: string;
}

export interface ReadMarked {
  type: 'ReadMarked';
  v: 1;
  conversationId: ConversationId;
  userId: UserId;
  /** The marker: everything at or below this seq has been read. */
  seq: number;
  at: string;
}

export type ConversationEventType = ConversationEvent['type'];
