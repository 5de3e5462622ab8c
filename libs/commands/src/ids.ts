import { createHmac, randomBytes } from 'node:crypto';

/**
 * A direct pair's conversation id: derived from the pair, so both sides (and racing
 * creates on any gateway) reach the same one, but keyed (CHAT_ID_SECRET), so that nobody
 * outside can compute the id of a pair and probe whether those two talk. Every gateway of
 * a deployment must hold the same key. Ids already in the log keep their form: a pair
 * created before is found by its key in the read model, not by deriving its id again.
 */
export function directConversationId(directKey: string, secret: string): string {
  return `d_${createHmac('sha256', secret).update(directKey).digest('base64url').slice(0, 32)}`;
}

export function groupConversationId(): string {
  return `g_${randomBytes(15).toString('base64url')}`;
}
