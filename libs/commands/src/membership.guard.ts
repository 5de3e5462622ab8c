import { ChatError } from '@chat/contracts';
import type { ConversationRecord } from '@chat/storage';

/**
 * The conversation, for one of its members. Anyone else gets the same answer whether the
 * conversation exists or not (code and message), so that trying ids tells a stranger
 * nothing: not which conversations exist, nor whether two users talk.
 */
export function requireMember(c: ConversationRecord | undefined, userId: string): ConversationRecord {
  if (!c || !c.members.has(userId)) throw new ChatError('FORBIDDEN', 'not a member of this conversation');
  return c;
}
