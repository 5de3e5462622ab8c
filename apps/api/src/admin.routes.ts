import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { clientPayloads, serverPayloads } from '@chat/contracts';
import { CONVERSATION_ID_PATTERN, USER_ID_PATTERN } from '@chat/domain';

/** `limit`/`cursor` on every list: the cursor is the `next` of the previous page. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  // A cursor is base64url: checked here, so that nothing else reaches the decoder.
  cursor: z.string().min(1).max(500).regex(/^[A-Za-z0-9_-]+$/, 'not a cursor of this list').optional(),
});

export const messagesQuery = pageQuery.extend({
  afterSeq: z.coerce.number().int().min(0).optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  /**
   * `asc`: the oldest of the range first, `next` pages forward; `desc`: the latest of the
   * range (each page still ascending), `next` pages back. Default: `desc` for `beforeSeq`
   * without `afterSeq`, else `asc`. A cursor keeps the direction of the page that made it.
   */
  order: z.enum(['asc', 'desc']).optional(),
});

export const reportsQuery = pageQuery.extend({
  /** Messages shown on each side of the reported one (its thread's, for a reply). */
  context: z.coerce.number().int().min(0).max(10).default(2),
});

/** An operator's mute: the socket event's rules for `until` (an ISO-8601 time with its zone, in the future). */
export const muteBody = clientPayloads['conversation:mute_member'].pick({ until: true });

export const userIdParam = z.string().regex(USER_ID_PATTERN, 'not a user id');
export const conversationIdParam = z.string().regex(CONVERSATION_ID_PATTERN, 'not a conversation id');

/**
 * A 400 with the contract's error body, `{ error: { code: "BAD_REQUEST", message } }`; the
 * top-level `message` of earlier versions is kept beside it.
 */
export function badRequest(message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, message, error: { code: 'BAD_REQUEST', message } });
}

/** Parses one request part; a mismatch is a 400 naming the parameter. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw badRequest(`${issue.path.length ? issue.path.join('.') : where}: ${issue.message}`);
}

/**
 * Opaque page cursors: base64url JSON, refused with a 400 when they do not decode to what
 * `schema` allows. Each schema is as strict as what the list itself writes (canonical
 * timestamps, ids without control characters): whatever it lets through reaches a query.
 */
export function encodePage(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodePage<T extends z.ZodType>(schema: T, cursor: string | undefined): z.infer<T> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const decoded = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (decoded.success) return decoded.data;
  } catch {
    // fall through
  }
  throw badRequest('cursor: not a cursor of this list');
}

interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** Express style (`:id`); the document shows it OpenAPI style (`{id}`). */
  path: string;
  summary: string;
  query?: z.ZodObject;
  /** A JSON request body. */
  body?: z.ZodObject;
  admin: boolean;
  responses: Record<number, string>;
}

const adminErrors = { 400: 'a parameter is not valid', 401: 'no bearer token', 403: 'wrong token' };
/** The operator's commands: the rules' refusals as statuses, `{ error: { code, message }, message }`. */
const moderationErrors = {
  400: 'BAD_REQUEST: a parameter is not valid, or the user is not a member',
  401: 'no bearer token',
  403: 'wrong token, or FORBIDDEN by the rules (a direct conversation has fixed members and no mutes)',
  503: 'UNAVAILABLE: a backend cannot be reached; retry',
};

/** The server API's refusals: `{ error: { code, message, retryAfterMs? } }` with the code's status. */
const serverErrors = {
  400: 'BAD_REQUEST: a field is not valid (named in the message)',
  401: 'UNAUTHORIZED: no bearer token',
  403: 'FORBIDDEN: wrong token, or the user named is not a member (or may not do this)',
  503: 'UNAVAILABLE: a backend cannot be reached; retry with the same ids',
};

/** Every HTTP route the system serves, documented at `/docs`. A test holds this to the routes Nest maps. */
export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/v1/admin/users/:userId/conversations', summary: "A user's conversations, newest activity first", query: pageQuery, admin: true, responses: { 200: '{ conversations: ConversationSummary[], next? }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/users/:userId/presence', summary: "A user's presence", admin: true, responses: { 200: 'Presence', ...adminErrors } },
  { method: 'get', path: '/v1/admin/users/:userId/connections', summary: "A user's live connections: gateway node, epoch, lease expiry", query: pageQuery, admin: true, responses: { 200: '{ connections, next? }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/users/:userId/push-decisions', summary: "The notifier's decisions for a user, newest recorded first: woken, or why not (online as ranges: seq to toSeq, messages)", query: pageQuery, admin: true, responses: { 200: '{ decisions: [{ id, conversationId, seq, toSeq?, messages?, decision, detail?, at }], next? }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/conversations/:id', summary: 'A conversation with its members (paged by user id)', query: pageQuery, admin: true, responses: { 200: '{ conversation, members, next? }', 404: 'no such conversation', ...adminErrors } },
  { method: 'get', path: '/v1/admin/conversations/:id/messages', summary: "A conversation's messages by seq, ascending, from every storage tier: the oldest of the range first, or the latest (order=desc, or beforeSeq alone) paged back", query: messagesQuery, admin: true, responses: { 200: '{ messages: Message[], next? }', 404: 'no such conversation', 503: 'an archived block of the range is damaged', ...adminErrors } },
  { method: 'get', path: '/v1/admin/projections', summary: 'Each projection: per partition stream, last seq, checkpoint, lag in events and seconds; the last rebuild', query: pageQuery, admin: true, responses: { 200: '{ projections, next? }', ...adminErrors } },
  { method: 'post', path: '/v1/admin/projections/:name/rebuild', summary: 'Replay the streams into a fresh copy of the projection, then swap it in', admin: true, responses: { 202: '{ rebuild }', 404: 'no such projection', 409: 'a rebuild is already running', ...adminErrors } },
  { method: 'get', path: '/v1/admin/webhooks', summary: 'The integrator webhooks per partition: position (last seq before the first event not yet delivered), lag behind the log, events retrying, the last error and when', query: pageQuery, admin: true, responses: { 200: '{ enabled, url?, partitions: [{ partition, stream, lastSeq, consumer?, position?, lag?, retrying, lastDeliveredAt?, lastError?: { message, at, conversationId, seq, attempts }, reportedAt? }], next? }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/reports', summary: "Messages members reported, newest first, each with the reported message as it is now and the messages around it (its thread's, for a reply)", query: reportsQuery, admin: true, responses: { 200: '{ reports: [{ conversationId, seq, targetSeq, reportedBy, reason, reportedAt, message?, context: Message[] }], next? }', ...adminErrors } },
  { method: 'delete', path: '/v1/admin/conversations/:id/messages/:seq', summary: 'Delete any message as the operator: a MessageDeleted event by ~operator, shown to members like any delete', admin: true, responses: { 200: '{ seq }', 404: 'no such conversation or message', ...moderationErrors } },
  { method: 'delete', path: '/v1/admin/conversations/:id/members/:userId', summary: 'Remove a member as the operator (the owner too)', admin: true, responses: { 200: '{ seq }', 404: 'no such conversation', ...moderationErrors } },
  { method: 'post', path: '/v1/admin/conversations/:id/members/:userId/mute', summary: 'Mute a member of a group as the operator, until `until` or until unmuted', body: muteBody, admin: true, responses: { 200: '{ seq }', 404: 'no such conversation', ...moderationErrors } },
  { method: 'delete', path: '/v1/admin/conversations/:id/members/:userId/mute', summary: 'Unmute a member of a group as the operator', admin: true, responses: { 200: '{ seq }', 404: 'no such conversation', ...moderationErrors } },
  { method: 'post', path: '/v1/admin/users/:userId/block', summary: "Block a user: its sockets are closed on every gateway at once and every connect is refused (connect_error \"blocked\") until unblocked", admin: true, responses: { 200: '{ userId, blocked: true, blockedAt }', ...adminErrors } },
  { method: 'delete', path: '/v1/admin/users/:userId/block', summary: 'Unblock a user', admin: true, responses: { 200: '{ userId, blocked: false, wasBlocked }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/users/:userId/block', summary: 'Whether a user is blocked, and since when', admin: true, responses: { 200: '{ userId, blocked, blockedAt? }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/blocks', summary: 'The blocked users, by user id', query: pageQuery, admin: true, responses: { 200: '{ blocks: [{ userId, blockedAt }], next? }', ...adminErrors } },
  { method: 'post', path: '/v1/server/tokens', summary: 'A client token for a user (HS256, CHAT_JWT_SECRET), to pass as auth: { token } to a socket', body: serverPayloads.token, admin: true, responses: { 200: '{ token, expiresAt }', ...serverErrors } },
  { method: 'post', path: '/v1/server/conversations', summary: 'Create a conversation as createdBy (conversation:create)', body: serverPayloads.createConversation, admin: true, responses: { 200: '{ conversation: Conversation }', 413: 'PAYLOAD_TOO_LARGE: more members than allowed', ...serverErrors } },
  { method: 'post', path: '/v1/server/conversations/:id/members', summary: 'Add members as by (conversation:add_members)', body: serverPayloads.addMembers, admin: true, responses: { 200: '{ seq }', 404: 'NOT_FOUND: no such conversation', 413: 'PAYLOAD_TOO_LARGE: over 1000 users, or past the largest group', ...serverErrors } },
  { method: 'delete', path: '/v1/server/conversations/:id/members/:userId', summary: 'Remove a member as by (conversation:remove_members); by = userId is leaving', query: serverPayloads.removeMember, admin: true, responses: { 200: '{ seq }', 404: 'NOT_FOUND: no such conversation', ...serverErrors } },
  { method: 'post', path: '/v1/server/conversations/:id/messages', summary: 'Send a message as senderId (message:send): the same clientMsgId again answers the first seq with duplicate: true', body: serverPayloads.sendMessage, admin: true, responses: { 200: '{ seq, sentAt, duplicate? }', 404: 'NOT_FOUND: no such conversation, or replyToSeq past its end', 413: 'PAYLOAD_TOO_LARGE: body over 16 KiB of UTF-8', 429: 'RATE_LIMITED: the sender\'s send budget is spent; retryAfterMs (and Retry-After) say when to retry', ...serverErrors } },
  { method: 'get', path: '/v1/admin/storage', summary: 'Messages and bytes per storage tier, oldest and newest', admin: true, responses: { 200: '{ tiers, damaged }', ...adminErrors } },
  { method: 'get', path: '/v1/admin/node', summary: 'This gateway process: node id, connections, rooms, what it received per conversation', admin: true, responses: { 200: '{ nodeId, connections, rooms, receivedByConversation }', ...adminErrors } },
  { method: 'get', path: '/healthz', summary: 'The process is up (under npm start, its worker process too)', admin: false, responses: { 200: '{ status: "ok" }', 503: '{ status, down: ["worker"] }' } },
  { method: 'get', path: '/readyz', summary: 'NATS, Postgres and Redis answer (under npm start, in the worker process too, which must have started); 503 names those that do not', admin: false, responses: { 200: 'ready', 503: '{ status, down: string[] }' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus text', admin: false, responses: { 200: 'text/plain metrics' } },
  { method: 'get', path: '/docs', summary: 'This document', admin: false, responses: { 200: 'OpenAPI 3.1' } },
  { method: 'get', path: '/admin', summary: 'The admin page: live plots from /metrics; users, conversations, projections and storage from the admin API (token typed in the page)', admin: false, responses: { 200: 'text/html' } },
  { method: 'get', path: '/admin/:file', summary: "The admin page's ES modules and style sheet", admin: false, responses: { 200: 'JavaScript or CSS', 404: 'no such file' } },
  { method: 'get', path: '/', summary: 'The web client', admin: false, responses: { 200: 'text/html' } },
  { method: 'get', path: '/favicon.ico', summary: 'No icon: an empty answer, so that browsers log no error', admin: false, responses: { 204: 'no content' } },
  { method: 'get', path: '/app/:file', summary: "The web client's scripts and style", admin: false, responses: { 200: 'JavaScript or CSS', 404: 'no such file' } },
  { method: 'get', path: '/sdk/:file', summary: 'The client SDK as ES modules', admin: false, responses: { 200: 'JavaScript', 404: 'no such file' } },
  { method: 'get', path: '/v1/dev/token', summary: 'A development token (only with CHAT_DEV_TOKENS=1)', admin: false, responses: { 200: '{ token }', 400: 'not a user id' } },
];

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of ROUTES) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const pathParams = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const shape = r.query ? (z.toJSONSchema(r.query, { io: 'input' }) as { properties?: Record<string, object>; required?: string[] }) : {};
    const queryParams = Object.entries(shape.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: shape.required?.includes(name) ?? false, schema }));
    paths[path] = {
      ...paths[path],
      [r.method]: {
        summary: r.summary,
        ...(r.admin && { security: [{ bearer: [] }] }),
        parameters: [...pathParams, ...queryParams],
        ...(r.body && { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input' }) } } } }),
        responses: Object.fromEntries(Object.entries(r.responses).map(([code, description]) => [code, { description }])),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'chat-backend admin and operations API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'CHAT_ADMIN_TOKEN' } } },
    paths,
  };
}
