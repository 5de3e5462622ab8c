import type { AttachmentRef } from './attachments';
import type { AssignableRole, ConversationKind, NotifyLevel } from './events';
import type { ConversationId, UserId } from './ids';

/** What a user asks for. Time comes in with the command; nothing here reads a clock. */
export type ConversationCommand =
  | CreateConversation
  | AddMembers
  | RemoveMembers
  | SendMessage
  | EditMessage
  | DeleteMessage
  | AddReaction
  | RemoveReaction
  | MarkRead
  | SetNotify
  | SetRole
  | MuteMember
  | UnmuteMember
  | SetSlowMode
  | ReportMessage;

export interface CreateConversation {
  type: 'CreateConversation';
  conversationId: ConversationId;
  kind: ConversationKind;
  creator: UserId;
  /** With or without the creator; duplicates are ignored. */
  members: UserId[];
  title?: string;
  at: string;
}

export interface AddMembers {
  type: 'AddMembers';
  conversationId: ConversationId;
  by: UserId;
  userIds: UserId[];
  at: string;
}

export interface RemoveMembers {
  type: 'RemoveMembers';
  conversationId: ConversationId;
  by: UserId;
  userIds: UserId[];
  at: string;
}

export interface SendMessage {
  type: 'SendMessage';
  conversationId: ConversationId;
  senderId: UserId;
  clientMsgId: string;
  body: string;
  replyToSeq?: number;
  threadRootSeq?: number;
  mentions?: UserId[];
  /** Checked by the caller (owner, conversation, uploaded object of the declared size) before deciding. */
  attachments?: AttachmentRef[];
  at: string;
}

export interface SetNotify {
  type: 'SetNotify';
  conversationId: ConversationId;
  userId: UserId;
  level: NotifyLevel;
  muteUntil?: string;
  at: string;
}

export interface MarkRead {
  type: 'MarkRead';
  conversationId: ConversationId;
  userId: UserId;
  seq: number;
  at: string;
}

export interface EditMessage {
  type: 'EditMessage';
  conversationId: ConversationId;
  by: UserId;
  targetSeq: number;
  body: string;
  at: string;
}

export interface DeleteMessage {
  type: 'DeleteMessage';
  conversationId: ConversationId;
  by: UserId;
  targetSeq: number;
  at: string;
}

export interface AddReaction {
  type: 'AddReaction';
  conversationId: ConversationId;
  userId: UserId;
  targetSeq: number;
  emoji: string;
  at: string;
}

export interface RemoveReaction {
  type: 'RemoveReaction';
  conversationId: ConversationId;
  userId: UserId;
  targetSeq: number;
  emoji: string;
  at: string;
}

export interface SetRole {
  type: 'SetRole';
  conversationId: ConversationId;
  by: UserId;
  userId: UserId;
  role: AssignableRole;
  at: string;
}

export interface MuteMember {
  type: 'MuteMember';
  conversationId: ConversationId;
  /** A member, or OPERATOR. */
  by: UserId;
  userId: UserId;
  until?: string;
  at: string;
}

export interface UnmuteMember {
  type: 'UnmuteMember';
  conversationId: ConversationId;
  /** A member, or OPERATOR. */
  by: UserId;
  userId: UserId;
  at: string;
}

export interface SetSlowMode {
  type: 'SetSlowMode';
  conversationId: ConversationId;
  by: UserId;
  seconds: number;
  at: string;
}

export interface ReportMessage {
  type: 'ReportMessage';
  conversationId: ConversationId;
  by: UserId;
  targetSeq: number;
  reason: string;
  at: string;
}
