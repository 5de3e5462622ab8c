/** docs/protocol.md "Shapes": what clients receive. */

export interface Message {
  type: 'message';
  conversationId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  body: string;
  sentAt: string;
  replyToSeq?: number;
  editedAt?: string;
  deleted?: boolean;
  /** Extension: emoji -> users who reacted with it (absent when there are none). */
  reactions?: Record<string, string[]>;
  /** Second edition: a reply in the thread of the message at this seq. */
  threadRootSeq?: number;
  /** Second edition: the users the message mentions. */
  mentions?: string[];
  /** Second edition: on a thread's root, once it has replies. */
  thread?: ThreadSummary;
}

export interface ThreadSummary {
  replies: number;
  lastReplySeq: number;
  lastReplyAt: string;
  /** Up to 10 distinct repliers, most recent first. */
  participants: string[];
}

export type NotifyLevel = 'all' | 'mentions' | 'none';

/** Second edition: a member's notification setting for a conversation. */
export interface NotifySetting {
  level: NotifyLevel;
  /** Nothing notifies before this time, whatever the level. */
  muteUntil?: string;
}

/** Second edition: a group's roles; a member not named is a plain member. */
export type Roles = Record<string, 'owner' | 'moderator'>;

/** Extension: a muted member's mute (no `until`: until unmuted). */
export interface MuteInfo {
  until?: string;
}

export interface ConversationInfo {
  id: string;
  type: 'direct' | 'group';
  title?: string;
  members: string[];
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  /**
   * Second edition: the owner (the creator, while a member) and the moderators; `{}` for a
   * direct conversation. Always sent by this server; optional in the type for older ones.
   */
  roles?: Roles;
  /** Extension: muted members (a mute whose `until` passed no longer holds). */
  muted?: Record<string, MuteInfo>;
  /** Extension: while slow mode is on, members other than the owner and moderators send one message per this many seconds. */
  slowModeSeconds?: number;
}

export interface ConversationSummary {
  id: string;
  type: 'direct' | 'group';
  title?: string;
  memberCount: number;
  lastSeq: number;
  lastReadSeq: number;
  unread: number;
  /** Second edition: unread messages that mention the user. */
  unreadMentions: number;
  /** Second edition: the user's notification setting here. */
  notify: NotifySetting;
  lastMessage?: Message;
  /** Extension: when the conversation last changed, for `conversation:list` paging. */
  lastActivityAt: string;
  /**
   * Second edition: the member ids, ordered by join (ties by id), when the conversation has
   * at most SUMMARY_MEMBERS_MAX members (always, for a direct one).
   */
  members?: string[];
  /** Second edition, direct conversations only: the other member's id. */
  peerId?: string;
  /** Extension: the group's roles, as in `Conversation.roles` (absent for a direct conversation). */
  roles?: Roles;
  /** Extension: the user's own mute here, while it holds. */
  muted?: MuteInfo;
  /** Extension: while slow mode is on. */
  slowModeSeconds?: number;
}

/** A conversation summary lists its members up to this many (docs/protocol.md, "Read state, sender's view"). */
export const SUMMARY_MEMBERS_MAX = 20;

export type ConversationChange = 'created' | 'members_added' | 'members_removed' | 'role_changed' | 'member_muted' | 'member_unmuted' | 'slow_mode';

export interface ConversationChanged {
  type: 'conversation';
  conversationId: string;
  seq: number;
  /** `role_changed` is the second edition's; `member_muted`, `member_unmuted` and `slow_mode` are extensions. */
  change: ConversationChange;
  /** Whom it changes: the members added or removed, the member whose role or mute changed; `[]` for slow mode. */
  userIds: string[];
  conversation?: ConversationInfo;
  /** Extension, on moderation changes: who made it (a member, or `~operator`). */
  by?: string;
  /** `role_changed`: the member's new role. */
  role?: 'moderator' | 'member';
  /** `member_muted`: the end of the mute (absent: until unmuted). */
  until?: string;
  /** `slow_mode`: one message per this many seconds; 0 turns it off. */
  seconds?: number;
}

export interface MessageEdited {
  type: 'message:edited';
  conversationId: string;
  seq: number;
  targetSeq: number;
  body: string;
  editedAt: string;
}

export interface MessageDeleted {
  type: 'message:deleted';
  conversationId: string;
  seq: number;
  targetSeq: number;
}

export interface Reaction {
  type: 'reaction';
  conversationId: string;
  seq: number;
  targetSeq: number;
  userId: string;
  emoji: string;
  op: 'add' | 'remove';
}

export interface ReadMarker {
  type: 'read';
  conversationId: string;
  userId: string;
  /** The marker itself (not a position in the log). */
  seq: number;
}

export interface Typing {
  type: 'typing';
  conversationId: string;
  userId: string;
  state: 'start' | 'stop';
}

export interface Presence {
  userId: string;
  status: 'online' | 'offline';
  lastSeenAt?: string;
}

/**
 * Second edition: the user's own notification setting changed (on any of its devices);
 * only that user's devices receive it.
 */
export interface NotifyChanged extends NotifySetting {
  type: 'notify';
  conversationId: string;
  seq: number;
}

/** Second edition: the `receipts` answer, one entry per member. */
export interface Receipt {
  userId: string;
  lastReadSeq: number;
}

/** What `sync` returns and what is delivered live; `type` is the socket event name. */
export type ChatEvent = Message | MessageEdited | MessageDeleted | Reaction | ConversationChanged | ReadMarker | NotifyChanged;
