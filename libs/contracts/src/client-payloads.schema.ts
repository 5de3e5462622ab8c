import { z } from 'zod';
import { ATTACHMENT_ID_PATTERN, CONVERSATION_ID_PATTERN, MAX_ATTACHMENT_NAME, MAX_ATTACHMENTS, MAX_CONTENT_TYPE, hasControlCharacter, isStorableText, MAX_MENTIONS, MAX_REPORT_REASON, MAX_SLOW_MODE_SECONDS, NOTIFY_LEVELS, USER_ID_PATTERN } from '@chat/domain';

/** docs/protocol.md: a message body is at most 16 KiB of UTF-8. */
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_MEMBERS_PER_CALL = 1000;
export const MAX_PRESENCE_USERS = 500;
export const MAX_HISTORY_LIMIT = 200;
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_SYNC_LIMIT = 1000;
export const DEFAULT_SYNC_LIMIT = 200;
export const MAX_LIST_LIMIT = 200;
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 50;
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_QUERY = 200;
/** Hard cap of the schema; CHAT_MAX_GROUP_MEMBERS may set a lower one. */
export const MAX_GROUP_MEMBERS_CAP = 100_000;

const encoder = new TextEncoder();
const utf8Bytes = (s: string) => (s.length * 3 <= MAX_BODY_BYTES ? s.length : encoder.encode(s).length);

// Every free-text field: no U+0000 and no unpaired surrogate, which Postgres cannot store (domain/text.ts).
const text = () => z.string().refine(isStorableText, 'U+0000 and unpaired surrogates are not allowed');
const conversationId = z.string().regex(CONVERSATION_ID_PATTERN, 'not a conversation id');
const userId = z.string().regex(USER_ID_PATTERN, 'not a user id');
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const positiveSeq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const limit = (max: number) => z.number().int().min(1).max(max);
const noControl = (s: string) => !hasControlCharacter(s);
// The id goes into a NATS header value and a unique index: printable, no control characters (C0, DEL or C1).
const clientMsgId = text().min(1).max(64).refine(noControl, 'control characters are not allowed');
// One emoji (possibly several code points, e.g. flags or skin tones) or a short :name:.
const emoji = text().min(1).max(64).regex(/^\S+$/, 'no whitespace or control characters').refine(noControl, 'no whitespace or control characters');
// docs/protocol.md: more than MAX_MENTIONS is BAD_REQUEST (a custom check: an over-long list would be PAYLOAD_TOO_LARGE).
const mentions = z.array(userId).refine((users) => users.length <= MAX_MENTIONS, `at most ${MAX_MENTIONS} users`);
// An ISO-8601 time with its zone, as every time of the protocol is written.
const isoTime = z.string().max(64).refine((s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)), 'not an ISO-8601 time with a zone');
const bodyOf = (min: number) => text()
  .min(min)
  .refine((s) => utf8Bytes(s) <= MAX_BODY_BYTES, { message: `body is over ${MAX_BODY_BYTES} bytes of UTF-8`, params: { tooLarge: true } });
const body = bodyOf(1);
// A send with attachments may have no text (the check is message:send's, below).
const sendBody = bodyOf(0);
const attachmentId = z.string().regex(ATTACHMENT_ID_PATTERN, 'not an attachment id');
// Over the limit is PAYLOAD_TOO_LARGE (a list over its limit); a repeated id, BAD_REQUEST.
const attachmentIds = z.array(attachmentId).max(MAX_ATTACHMENTS).refine((ids) => new Set(ids).size === ids.length, 'an attachment is listed twice');
// A file name as the user's system gave it; it goes into a Content-Disposition header, so no control characters.
const fileName = text().min(1).max(MAX_ATTACHMENT_NAME).refine(noControl, 'control characters are not allowed');
// `type/subtype` and parameters, printable ASCII: it is signed into the upload and served back as Content-Type.
const contentType = z.string().max(MAX_CONTENT_TYPE).regex(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+( *;[ -~]*)?$/, 'expected a media type such as image/png');

/** `message:send`'s fields, without its rule that a send has a body or attachments (the server API's body builds on them). */
export const messageSendFields = z.object({
  conversationId, clientMsgId, body: sendBody, replyToSeq: positiveSeq.optional(), threadRootSeq: positiveSeq.optional(), mentions: mentions.optional(),
  attachments: attachmentIds.optional(),
});

export const clientPayloads = {
  'conversation:create': z.object({
    type: z.enum(['direct', 'group']),
    members: z.array(userId).max(MAX_GROUP_MEMBERS_CAP),
    title: text().min(1).max(200).optional(),
  }),
  'conversation:add_members': z.object({ conversationId, userIds: z.array(userId).min(1).max(MAX_MEMBERS_PER_CALL) }),
  'conversation:remove_members': z.object({ conversationId, userIds: z.array(userId).min(1).max(MAX_MEMBERS_PER_CALL) }),
  'conversation:list': z.object({ limit: limit(MAX_LIST_LIMIT).optional(), before: text().min(1).max(200).optional() }),
  'message:send': messageSendFields.refine((p) => p.body.length > 0 || (p.attachments?.length ?? 0) > 0, { message: 'empty, and no attachments', path: ['body'] }),
  'message:edit': z.object({ conversationId, seq: positiveSeq, body }),
  'message:delete': z.object({ conversationId, seq: positiveSeq }),
  'reaction:add': z.object({ conversationId, seq: positiveSeq, emoji }),
  'reaction:remove': z.object({ conversationId, seq: positiveSeq, emoji }),
  sync: z.object({ since: text().min(1).max(4096).optional(), limit: limit(MAX_SYNC_LIMIT).optional() }),
  history: z.object({ conversationId, threadRootSeq: positiveSeq.optional(), beforeSeq: positiveSeq.optional(), limit: limit(MAX_HISTORY_LIMIT).optional() }),
  read: z.object({ conversationId, seq }),
  typing: z.object({ conversationId, state: z.enum(['start', 'stop']) }),
  'presence:subscribe': z.object({ userIds: z.array(userId).min(1).max(MAX_PRESENCE_USERS) }),
  'presence:unsubscribe': z.object({ userIds: z.array(userId).min(1).max(MAX_PRESENCE_USERS) }),
  'push:register': z.object({ platform: z.enum(['fcm', 'apns', 'webpush', 'webhook']), token: text().min(1).max(4096) }),
  'push:unregister': z.object({}),
  'conversation:notify': z.object({ conversationId, level: z.enum(NOTIFY_LEVELS), muteUntil: isoTime.optional() }),
  receipts: z.object({ conversationId }),
  'conversation:set_role': z.object({ conversationId, userId, role: z.enum(['moderator', 'member']) }),
  'conversation:mute_member': z.object({ conversationId, userId, until: isoTime.optional() }),
  'conversation:unmute_member': z.object({ conversationId, userId }),
  'conversation:set_slow_mode': z.object({ conversationId, seconds: z.number().int().min(0).max(MAX_SLOW_MODE_SECONDS) }),
  'message:report': z.object({ conversationId, seq: positiveSeq, reason: text().min(1).max(MAX_REPORT_REASON) }),
  // A query made only of operators (`"" - or`) passes here and is refused by the server,
  // which knows what websearch_to_tsquery leaves of it.
  search: z.object({
    query: text().min(1).max(MAX_SEARCH_QUERY),
    conversationId: conversationId.optional(),
    limit: limit(MAX_SEARCH_LIMIT).optional(),
    before: text().min(1).max(400).optional(),
  }),
  // `size` over CHAT_MAX_ATTACHMENT_BYTES is PAYLOAD_TOO_LARGE, checked where the setting is known.
  'attachment:create': z.object({ conversationId, name: fileName, contentType, size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
  'attachment:url': z.object({ conversationId, attachmentId }),
} as const;

export type ClientEventName = keyof typeof clientPayloads;
export type ClientPayload<E extends ClientEventName> = z.infer<(typeof clientPayloads)[E]>;

export function isClientEventName(name: string): name is ClientEventName {
  return Object.prototype.hasOwnProperty.call(clientPayloads, name);
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE'; message: string };

/**
 * Validates one client payload. Over-long bodies and lists are PAYLOAD_TOO_LARGE, any
 * other mismatch BAD_REQUEST, with the first offending field named.
 */
export function parseClientPayload<E extends ClientEventName>(event: E, payload: unknown): ParseResult<ClientPayload<E>> {
  return parsePayload(clientPayloads[event], payload ?? (event === 'sync' || event === 'conversation:list' ? {} : payload)) as ParseResult<ClientPayload<E>>;
}

/** Any payload schema built from these fields (the server API's bodies too), with the same codes. */
export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown): ParseResult<z.infer<T>> {
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'payload';
  const tooLarge =
    (issue.code === 'too_big' && (issue.origin === 'array' || where === 'body')) ||
    (issue.code === 'custom' && (issue.params as { tooLarge?: boolean } | undefined)?.tooLarge === true);
  return { ok: false, code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message: `${where}: ${issue.message}` };
}
