/**
 * Conversation ids end up as a NATS subject token and inside Redis and S3 keys, so the
 * alphabet excludes `.`, `*`, `>`, whitespace and `:`; nothing a client sends can become
 * a wildcard or split a subject.
 */
export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** PROTOCOL.md: `sub` = 1-64 chars of `[A-Za-z0-9_.:@-]`. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
export function isConversationId(value) {
    return CONVERSATION_ID_PATTERN.test(value);
}
export function isUserId(value) {
    return USER_ID_PATTERN.test(value);
}
