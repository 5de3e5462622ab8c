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
  /** Seq of the last event that changed the conversation (every kind but read markers). */
  lastSeq: number;
  /** Dense count of messages: the n-th message has number n. Unread counts derive from it. */
  messageCount: number;
  /** Seq of the removal of each recently removed user (not a member again since): what a concurrent send is judged by. */
  departed?: ReadonlyMap<UserId, number>;
  /** A group's moderators (the owner is `createdBy`); absent: none. A removal ends the role. */
  moderators?: ReadonlySet<UserId>;
  /** Muted members: the mute's seq and its end (absent: until unmuted). A removal ends the mute. */
  muted?: ReadonlyMap<UserId, Mute>;
  /** Slow mode while it is on, with the seq it was set at. */
  slowMode?: SlowMode;
  /**
   * Present exactly while slow mode is on: each member's last send since slow mode was set
   * (and since it last joined). What the slow mode rule compares a send with.
   */
  lastSends?: ReadonlyMap<UserId, LastSend>;
}

export type Role = 'owner' | 'moderator' | 'member';

export interface Mute {
  /** Seq of the MemberMuted event. */
  seq: number;
  until?: string;
}

export interface SlowMode {
  seconds: number;
  /** Seq of the SlowModeSet event that turned it on (or changed it). */
  seq: number;
}

export interface LastSend {
  seq: number;
  /** The send's `at` (when its gateway accepted it). */
  at: string;
}

/** `undefined` is a conversation whose log holds no (accepted) creation yet. */
export type ConversationState = Conversation | undefined;

/**
 * What the rules need to know about the message an edit, delete, reaction or reply targets, as
 * it stands at that point of the log. `undefined`: no message has that seq.
 */
export interface MessageRef {
  senderId: UserId;
  deleted: boolean;
  /** emoji -> users who reacted with it. */
  reactions: Readonly<Record<string, readonly UserId[]>>;
  /** It is a reply: no thread can start from it. */
  inThread: boolean;
}
