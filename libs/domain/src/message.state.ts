import type { AttachmentRef } from './attachments';
import type { MessageRef } from './conversation.state';
import type { MessageChange } from './events';
import type { UserId } from './ids';

/**
 * Distinct emoji one message may carry. A rule of the log, not a setting: the projector
 * applies it at each reaction's place in the log, so every replay keeps the same reactions
 * (a knob changed between two replays would not). 32 x 64 characters keeps a message's
 * reactions to a few KiB of emoji names, however many members react.
 */
export const MAX_DISTINCT_REACTIONS = 32;

/** How many of a thread's latest repliers its root's summary names. */
export const THREAD_PARTICIPANTS_MAX = 10;

/** What a thread's root shows of its replies. */
export interface ThreadSummary {
  replies: number;
  lastReplySeq: number;
  lastReplyAt: string;
  /** Distinct repliers, most recent first, at most THREAD_PARTICIPANTS_MAX. */
  participants: UserId[];
}

/** A message as its log folds it: what edits, a deletion, reactions and replies change. */
export interface MessageState {
  senderId: UserId;
  body: string;
  editedAt?: string;
  deleted?: boolean;
  /** emoji -> users who reacted with it; absent when there are none. */
  reactions?: Record<string, UserId[]>;
  /** Set on a reply: the seq of its thread's root. */
  threadRootSeq?: number;
  /** Set on a root with replies. */
  thread?: ThreadSummary;
  /** Files sent with it; a deletion takes them (their objects go too: the archiver deletes them). */
  attachments?: AttachmentRef[];
}

/**
 * Applies one change to a message, in place: the projector folds stored messages with it,
 * and the rules read the result back through `messageRef`, so both see one message state.
 */
export function evolveMessage(message: MessageState, event: MessageChange): void {
  switch (event.type) {
    case 'MessageEdited':
      message.body = event.body;
      message.editedAt = event.at;
      return;
    case 'MessageDeleted':
      message.body = '';
      message.deleted = true;
      delete message.reactions;
      delete message.editedAt;
      delete message.attachments;
      return;
    case 'ReactionAdded':
    case 'ReactionRemoved': {
      // No prototype: an emoji such as `__proto__` or `toString` is just a key.
      const reactions: Record<string, UserId[]> = Object.create(null);
      for (const [emoji, users] of Object.entries(message.reactions ?? {})) reactions[emoji] = users;
      const users = new Set(reactions[event.emoji] ?? []);
      if (event.type === 'ReactionAdded') users.add(event.userId);
      else users.delete(event.userId);
      if (users.size) reactions[event.emoji] = [...users];
      else delete reactions[event.emoji];
      if (Object.keys(reactions).length) message.reactions = reactions;
      else delete message.reactions;
      return;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * A reply at `seq` joins its root's thread, in place. A deleted reply still counts: it
 * stays in the thread as a placeholder, as a deleted message stays in the timeline.
 */
export function addReply(root: MessageState, reply: { seq: number; senderId: UserId; at: string }): void {
  const before = root.thread?.participants ?? [];
  root.thread = {
    replies: (root.thread?.replies ?? 0) + 1,
    lastReplySeq: reply.seq,
    lastReplyAt: reply.at,
    participants: [reply.senderId, ...before.filter((u) => u !== reply.senderId)].slice(0, THREAD_PARTICIPANTS_MAX),
  };
}

/** What the rules need to know of a message that a change or a reply targets. */
export function messageRef(message: MessageState | undefined): MessageRef | undefined {
  return message && {
    senderId: message.senderId, deleted: message.deleted === true, reactions: message.reactions ?? {}, inThread: message.threadRootSeq !== undefined,
  };
}
