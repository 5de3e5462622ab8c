import { createHash, randomBytes } from 'node:crypto';

/** A direct pair's conversation id: derived from the pair, so both sides reach the same one. */
export function directConversationId(directKey: string): string {
  return `d_${createHash('sha256').update(directKey).digest('base64url').slice(0, 32)}`;
}

export function groupConversationId(): string {
  return `g_${randomBytes(15).toString('base64url')}`;
}
