/** Identifiers as the domain sees them: plain strings whose shape is checked at the edge. */
export type UserId = string;
export type ConversationId = string;

/**
 * Conversation ids end up as a NATS subject token and inside Redis and S3 keys, so the
 * alphabet excludes `.`, `*`, `>`, whitespace and `:`; nothing a client sends can become
 * a wildcard or split a subject.
 */
export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** docs/protocol.md: `sub` = 1-64 chars of `[A-Za-z0-9_.:@-]`. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;

/**
 * Who acts when the operator does (the admin API's moderation routes): outside
 * USER_ID_PATTERN, so that no user can be it, and accepted only where operators act.
 */
export const OPERATOR = '~operator';

export function isConversationId(value: string): boolean {
  return CONVERSATION_ID_PATTERN.test(value);
}

export function isUserId(value: string): boolean {
  return USER_ID_PATTERN.test(value);
}
