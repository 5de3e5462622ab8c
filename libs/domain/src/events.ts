import type { AttachmentRef } from './attachments';
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
  | MessageEdited
  | MessageDeleted
  | ReactionAdded
  | ReactionRemoved
  | ReadMarked
  | NotifySet
  | RoleSet
  | MemberMuted
  | MemberUnmuted
  | SlowModeSet
  | MessageReported;

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
  /** A member, or OPERATOR (the admin API). */
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
  /** A reply in the thread of this message (a message of the same conversation, not itself a reply). */
  threadRootSeq?: number;
  /**
   * Users the message mentions, as the sender named them (distinct, members when the send
   * was decided). The projection counts only those who are members at the event's place
   * in the log, and never the sender.
   */
  mentions?: UserId[];
  /** Files sent with the message (their metadata; the bytes are objects in S3), checked uploaded when the send was decided. */
  attachments?: AttachmentRef[];
  /**
   * The conversation's position (its lastSeq) in the state the send was decided on. A
   * member removed after it, by a removal the deciding gateway could not have seen yet,
   * still sends: the send was concurrent with the removal, and it was acked.
   */
  basis?: number;
  at: string;
}

export interface MessageEdited {
  type: 'MessageEdited';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  targetSeq: number;
  body: string;
  at: string;
}

export interface MessageDeleted {
  type: 'MessageDeleted';
  v: 1;
  conversationId: ConversationId;
  /** A member, or OPERATOR (the admin API). */
  by: UserId;
  targetSeq: number;
  at: string;
}

export interface ReactionAdded {
  type: 'ReactionAdded';
  v: 1;
  conversationId: ConversationId;
  userId: UserId;
  targetSeq: number;
  emoji: string;
  at: string;
}

export interface ReactionRemoved {
  type: 'ReactionRemoved';
  v: 1;
  conversationId: ConversationId;
  userId: UserId;
  targetSeq: number;
  emoji: string;
  at: string;
}

/**
 * v2 names the marker `upToSeq`; v1 (as first released) called it `seq`, which read like
 * the event's own position in the log. `upcast` turns v1 into v2.
 */
export interface ReadMarked {
  type: 'ReadMarked';
  v: 2;
  conversationId: ConversationId;
  userId: UserId;
  /** The marker: everything at or below this seq has been read. */
  upToSeq: number;
  at: string;
}

export const NOTIFY_LEVELS = ['all', 'mentions', 'none'] as const;
export type NotifyLevel = (typeof NOTIFY_LEVELS)[number];

/** A member's notification setting for one conversation, for all of its devices. */
export interface NotifySet {
  type: 'NotifySet';
  v: 1;
  conversationId: ConversationId;
  userId: UserId;
  level: NotifyLevel;
  /** Until then nothing notifies, whatever the level; absent: not muted for a time. */
  muteUntil?: string;
  at: string;
}

/** What the owner of a group may make a member: a moderator, or a member again. */
export type AssignableRole = 'moderator' | 'member';

/** The owner (a group's creator) gives or takes a member's moderator role. */
export interface RoleSet {
  type: 'RoleSet';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  userId: UserId;
  role: AssignableRole;
  at: string;
}

/**
 * A member may not send, edit or react until `until` (absent: until unmuted). By the owner,
 * a moderator or OPERATOR.
 */
export interface MemberMuted {
  type: 'MemberMuted';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  userId: UserId;
  until?: string;
  at: string;
}

export interface MemberUnmuted {
  type: 'MemberUnmuted';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  userId: UserId;
  at: string;
}

/** Members other than the owner and moderators send at most one message per `seconds` (0: off). */
export interface SlowModeSet {
  type: 'SlowModeSet';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  seconds: number;
  at: string;
}

/** A member reports a message to the operators; members never see it. */
export interface MessageReported {
  type: 'MessageReported';
  v: 1;
  conversationId: ConversationId;
  by: UserId;
  targetSeq: number;
  reason: string;
  at: string;
}

/** The events that change one earlier message. */
export type MessageChange = MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved;

export type ConversationEventType = ConversationEvent['type'];
