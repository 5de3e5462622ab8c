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

/** A message as its log folds it: what edits, a deletion and reactions change. */
export interface MessageState {
  senderId: UserId;
  body: string;
  editedAt?: string;
  deleted?: boolean;
  /** emoji -> users who reacted with it; absent when there are none. */
  reactions?: Record<string, UserId[]>;
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

/** What the rules need to know of a message that a change targets. */
export function messageRef(message: MessageState | undefined): MessageRef | undefined {
  return message && { senderId: message.senderId, deleted: message.deleted === true, reactions: message.reactions ?? {} };
}
