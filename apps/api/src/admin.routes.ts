import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { clientPayloads, httpAnswers, serverPayloads } from '@chat/contracts';
import { CONVERSATION_ID_PATTERN, USER_ID_PATTERN } from '@chat/domain';
import { EXAMPLE_CONVERSATION, EXAMPLE_MESSAGE, EXAMPLE_SUMMARY, GROUP } from './docs/examples';

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
/** A message's seq in a path. */
export const seqParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
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

/** What a route answers: a JSON body with its schema and example, or a media type. */
export interface RouteAnswer {
  description: string;
  schema?: z.ZodType;
  example?: unknown;
  /** Media type of an answer that is not JSON. */
  type?: string;
}

export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** Express style (`:id`); the document shows it OpenAPI style (`{id}`). */
  path: string;
  summary: string;
  /**
   * `admin` and `server`: bearer CHAT_ADMIN_TOKEN (a refusal of `server` has the contract's
   * `{ error: { code, message } }` body, of `admin` Nest's); `operations` and `pages` are open.
   */
  group: 'admin' | 'server' | 'operations' | 'pages';
  /** Path parameters' schemas; a parameter not named here is any string. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** A JSON request body and its example. */
  body?: { schema: z.ZodObject; example: unknown };
  /** Every status the route answers with, the success first. */
  answers: Record<number, RouteAnswer | string>;
}

/** A JSON answer whose example the compiler holds to its schema. */
const json = <S extends z.ZodType>(schema: S, description: string, example: z.output<S>): RouteAnswer => ({ description, schema, example });
const body = <S extends z.ZodObject>(schema: S, example: z.input<S>) => ({ schema, example });
/** A static file's route: one plain file name, never a path. */
const file = { params: { file: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a file name') } };

const adminRefusals = { 400: 'a parameter is not valid (the message names it)', 401: 'no bearer token', 403: 'wrong token' };
/** The operator's commands: the rules' refusals as statuses, `{ error: { code, message } }`. */
const moderationRefusals = {
  400: 'BAD_REQUEST: a parameter is not valid, or the user is not a member',
  401: 'no bearer token',
  403: 'wrong token, or FORBIDDEN by the rules (a direct conversation has fixed members and no mutes)',
  503: 'UNAVAILABLE: a backend cannot be reached; retry',
};
/** The server API's refusals: `{ error: { code, message, retryAfterMs? } }` with the code's status. */
const serverRefusals = {
  400: 'BAD_REQUEST: a field is not valid (named in the message)',
  401: 'UNAUTHORIZED: no bearer token',
  403: 'FORBIDDEN: wrong token, or the user named is not a member (or may not do this)',
  503: 'UNAVAILABLE: a backend cannot be reached; retry with the same ids',
};
const user = { userId: userIdParam };
const conversation = { id: conversationIdParam };
const page = 'the page, and `next` when there is another';

/**
 * Every HTTP route the system serves, with what it takes and answers: /docs/openapi.json is
 * generated from it, and tests hold it to the routes Nest maps and to docs/protocol.md.
 */
export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/v1/admin/users/:userId/conversations', summary: "A user's conversations, newest activity first", group: 'admin', params: user, query: pageQuery,
    answers: { 200: json(httpAnswers.userConversations, page, { conversations: [EXAMPLE_SUMMARY], next: 'eyJhdCI6IjIwMzAifQ' }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/users/:userId/presence', summary: "A user's presence", group: 'admin', params: user,
    answers: { 200: json(httpAnswers.userPresence, 'the presence', { userId: 'bob', status: 'online' }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/users/:userId/connections', summary: "A user's live connections: gateway node, epoch, lease expiry", group: 'admin', params: user, query: pageQuery,
    answers: { 200: json(httpAnswers.userConnections, page, { connections: [{ connectionId: 'Zx81kQ', node: 'gw-1', epoch: 3, expiresAt: '2030-01-31T12:00:30.000Z' }] }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/users/:userId/push-decisions', summary: "The notifier's decisions for a user, newest recorded first: woken, or why not (online as ranges: seq to toSeq, messages)", group: 'admin', params: user, query: pageQuery,
    answers: { 200: json(httpAnswers.pushDecisions, page, { decisions: [{ id: 41, conversationId: GROUP, seq: 12, decision: 'woken', detail: 'webhook', at: '2030-01-31T12:00:31.000Z' }, { id: 40, conversationId: GROUP, seq: 9, toSeq: 11, messages: 3, decision: 'online', at: '2030-01-31T11:59:00.000Z' }] }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/conversations/:id', summary: 'A conversation with its members (paged by user id)', group: 'admin', params: conversation, query: pageQuery,
    answers: {
      200: json(httpAnswers.conversation, 'the conversation and a page of its members', {
        conversation: { id: GROUP, type: 'group', title: 'Lunch', partition: 2, createdBy: 'alice', createdAt: EXAMPLE_CONVERSATION.createdAt, lastSeq: 12, messageCount: 9, memberCount: 3, lastActivityAt: EXAMPLE_MESSAGE.sentAt },
        members: [{ userId: 'alice', joinedSeq: 1, lastReadSeq: 12, unread: 0 }, { userId: 'bob', joinedSeq: 1, lastReadSeq: 10, unread: 2 }],
        next: 'ImJvYiI',
      }),
      404: 'no such conversation', ...adminRefusals,
    } },
  { method: 'get', path: '/v1/admin/conversations/:id/messages', summary: "A conversation's messages by seq, ascending, from every storage tier: the oldest of the range first, or the latest (order=desc, or beforeSeq alone) paged back", group: 'admin', params: conversation, query: messagesQuery,
    answers: { 200: json(httpAnswers.conversationMessages, 'a page, ascending by seq', { messages: [EXAMPLE_MESSAGE] }), 404: 'no such conversation', 503: 'an archived block of the range is damaged', ...adminRefusals } },
  { method: 'get', path: '/v1/admin/projections', summary: 'Each projection: per partition stream, last seq, checkpoint, lag in events and seconds; the last rebuild', group: 'admin', query: pageQuery,
    answers: { 200: json(httpAnswers.projections, 'every projection', { projections: [{ name: 'timeline', partitions: [{ partition: 0, stream: 'chat_p0', lastSeq: 1200, checkpoint: 1198, lagEvents: 2, lagSeconds: 0.02 }] }] }), ...adminRefusals } },
  { method: 'post', path: '/v1/admin/projections/:name/rebuild', summary: 'Replay the streams into a fresh copy of the projection, then swap it in', group: 'admin',
    answers: { 202: json(httpAnswers.rebuild, 'the rebuild has begun', { rebuild: { projection: 'timeline', state: 'building', applied: 0, total: 1200, eventsPerSecond: 0, startedAt: EXAMPLE_MESSAGE.sentAt } }), 404: 'no such projection', 409: 'a rebuild is already running', ...adminRefusals } },
  { method: 'get', path: '/v1/admin/webhooks', summary: 'The integrator webhooks per partition: position (last seq before the first event not yet delivered), lag behind the log, events retrying, the last error and when', group: 'admin', query: pageQuery,
    answers: { 200: json(httpAnswers.webhooks, page, { enabled: true, url: 'https://hooks.example.com/chat', partitions: [{ partition: 0, stream: 'chat_p0', lastSeq: 1200, consumer: 'chat_webhooks_p0', position: 1190, lag: 10, retrying: 1, lastDeliveredAt: EXAMPLE_MESSAGE.sentAt, lastError: { message: 'answered 503', at: EXAMPLE_MESSAGE.sentAt, conversationId: GROUP, seq: 12, attempts: 3 }, reportedAt: EXAMPLE_MESSAGE.sentAt }] }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/reports', summary: "Messages members reported, newest first, each with the reported message as it is now and the messages around it (its thread's, for a reply)", group: 'admin', query: reportsQuery,
    answers: { 200: json(httpAnswers.reports, page, { reports: [{ conversationId: GROUP, seq: 20, targetSeq: 12, reportedBy: 'bob', reason: 'spam', reportedAt: EXAMPLE_MESSAGE.sentAt, message: EXAMPLE_MESSAGE, context: [EXAMPLE_MESSAGE] }] }), ...adminRefusals } },
  { method: 'delete', path: '/v1/admin/conversations/:id/messages/:seq', summary: 'Delete any message as the operator: a MessageDeleted event by ~operator, shown to members like any delete', group: 'admin', params: { ...conversation, seq: seqParam },
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the delete', { seq: 21 }), 404: 'no such conversation or message', ...moderationRefusals } },
  { method: 'delete', path: '/v1/admin/conversations/:id/members/:userId', summary: 'Remove a member as the operator (the owner too)', group: 'admin', params: { ...conversation, ...user },
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the removal', { seq: 22 }), 404: 'no such conversation', ...moderationRefusals } },
  { method: 'post', path: '/v1/admin/conversations/:id/members/:userId/mute', summary: 'Mute a member of a group as the operator, until `until` or until unmuted', group: 'admin', params: { ...conversation, ...user }, body: body(muteBody, { until: '2030-01-31T13:00:00.000Z' }),
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the mute', { seq: 23 }), 404: 'no such conversation', ...moderationRefusals } },
  { method: 'delete', path: '/v1/admin/conversations/:id/members/:userId/mute', summary: 'Unmute a member of a group as the operator', group: 'admin', params: { ...conversation, ...user },
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the unmute', { seq: 24 }), 404: 'no such conversation', ...moderationRefusals } },
  { method: 'post', path: '/v1/admin/users/:userId/block', summary: 'Block a user: its sockets are closed on every gateway at once and every connect is refused (connect_error "blocked") until unblocked', group: 'admin', params: user,
    answers: { 200: json(httpAnswers.blocked, 'blocked', { userId: 'mallory', blocked: true, blockedAt: EXAMPLE_MESSAGE.sentAt }), ...adminRefusals } },
  { method: 'delete', path: '/v1/admin/users/:userId/block', summary: 'Unblock a user', group: 'admin', params: user,
    answers: { 200: json(httpAnswers.unblocked, 'unblocked', { userId: 'mallory', blocked: false, wasBlocked: true }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/users/:userId/block', summary: 'Whether a user is blocked, and since when', group: 'admin', params: user,
    answers: { 200: json(httpAnswers.blockStatus, 'the block, if any', { userId: 'mallory', blocked: true, blockedAt: EXAMPLE_MESSAGE.sentAt }), ...adminRefusals } },
  { method: 'get', path: '/v1/admin/blocks', summary: 'The blocked users, by user id', group: 'admin', query: pageQuery,
    answers: { 200: json(httpAnswers.blocks, page, { blocks: [{ userId: 'mallory', blockedAt: EXAMPLE_MESSAGE.sentAt }] }), ...adminRefusals } },
  { method: 'post', path: '/v1/server/tokens', summary: 'A client token for a user (HS256, CHAT_JWT_SECRET), to pass as auth: { token } to a socket', group: 'server', body: body(serverPayloads.token, { userId: 'alice', ttlSeconds: 3600 }),
    answers: { 200: json(httpAnswers.serverToken, 'the token', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl', expiresAt: '2030-01-31T13:00:00.000Z' }), ...serverRefusals } },
  { method: 'post', path: '/v1/server/conversations', summary: 'Create a conversation as createdBy (conversation:create)', group: 'server', body: body(serverPayloads.createConversation, { type: 'group', members: ['bob', 'carol'], title: 'Lunch', createdBy: 'alice' }),
    answers: { 200: json(httpAnswers.serverConversation, 'the conversation (a direct pair always answers the same one)', { conversation: EXAMPLE_CONVERSATION }), 413: 'PAYLOAD_TOO_LARGE: more members than allowed', ...serverRefusals } },
  { method: 'post', path: '/v1/server/conversations/:id/members', summary: 'Add members as by (conversation:add_members)', group: 'server', params: conversation, body: body(serverPayloads.addMembers, { userIds: ['dave'], by: 'alice' }),
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the change', { seq: 13 }), 404: 'NOT_FOUND: no such conversation', 413: 'PAYLOAD_TOO_LARGE: over 1000 users, or past the largest group', ...serverRefusals } },
  { method: 'delete', path: '/v1/server/conversations/:id/members/:userId', summary: 'Remove a member as by (conversation:remove_members); by = userId is leaving', group: 'server', params: { ...conversation, ...user }, query: serverPayloads.removeMember,
    answers: { 200: json(httpAnswers.serverSeq, 'the seq of the change', { seq: 14 }), 404: 'NOT_FOUND: no such conversation', ...serverRefusals } },
  { method: 'post', path: '/v1/server/conversations/:id/messages', summary: 'Send a message as senderId (message:send): the same clientMsgId again answers the first seq with duplicate: true', group: 'server', params: conversation,
    body: body(serverPayloads.sendMessage, { senderId: 'alice', clientMsgId: 'import-0001', body: 'Lunch at noon? @bob', mentions: ['bob'] }),
    answers: { 200: json(httpAnswers.serverSend, 'the message is in the log', { seq: 12, sentAt: EXAMPLE_MESSAGE.sentAt }), 404: 'NOT_FOUND: no such conversation, or replyToSeq past its end', 413: 'PAYLOAD_TOO_LARGE: body over 16 KiB of UTF-8', 429: "RATE_LIMITED: the sender's send budget is spent; retryAfterMs (and Retry-After) say when to retry", ...serverRefusals } },
  { method: 'get', path: '/v1/admin/storage', summary: 'Messages and bytes per storage tier, oldest and newest', group: 'admin',
    answers: { 200: json(httpAnswers.storage, 'the tiers, and the damaged blocks found', { tiers: [{ tier: 'hot', messages: 5400, bytes: 1900000, oldest: EXAMPLE_CONVERSATION.createdAt, newest: EXAMPLE_MESSAGE.sentAt }, { tier: 'warm', messages: 120000, bytes: 9100000, blocks: 40, rawBytes: 36000000 }], damaged: [] }), 401: adminRefusals[401], 403: adminRefusals[403] } },
  { method: 'get', path: '/v1/admin/node', summary: 'This gateway process: node id, connections, rooms, what it received per conversation', group: 'admin',
    answers: { 200: json(httpAnswers.node, 'what this process holds', { nodeId: 'gw-1', connections: 812, rooms: [`c:${GROUP}`], receivedByConversation: { [GROUP]: 12 } }), 401: adminRefusals[401], 403: adminRefusals[403] } },
  { method: 'get', path: '/healthz', summary: 'The process is up (under npm start, its worker process too)', group: 'operations',
    answers: { 200: json(httpAnswers.healthz, 'up', { status: 'ok' }), 503: json(httpAnswers.healthDown, 'a sibling process is down', { status: 'unavailable', down: ['worker'], checks: { worker: 'exited' } }) } },
  { method: 'get', path: '/readyz', summary: 'NATS, Postgres and Redis answer (under npm start, in the worker process too, which must have started); 503 names those that do not', group: 'operations',
    answers: { 200: json(httpAnswers.readyz, 'ready', { status: 'ready', down: [], checks: { nats: 'up', postgres: 'up', redis: 'up' } }), 503: json(httpAnswers.readyz, 'a dependency does not answer', { status: 'unavailable', down: ['redis'], checks: { nats: 'up', postgres: 'up', redis: 'connection refused' } }) } },
  { method: 'get', path: '/metrics', summary: 'Prometheus text', group: 'operations', answers: { 200: { description: 'the metrics', type: 'text/plain' } } },
  { method: 'get', path: '/docs', summary: 'This reference as a page; with Accept: application/json (or no Accept), the OpenAPI document', group: 'pages',
    answers: { 200: { description: 'the page (text/html), or the OpenAPI document (application/json)', type: 'text/html' } } },
  { method: 'get', path: '/docs/openapi.json', summary: 'The OpenAPI 3.1 document of every HTTP route', group: 'pages', answers: { 200: { description: 'this document', type: 'application/json' } } },
  { method: 'get', path: '/docs/asyncapi.json', summary: 'The AsyncAPI 3.0 document of every Socket.IO event, its payload and its ack', group: 'pages', answers: { 200: { description: 'the AsyncAPI document', type: 'application/json' } } },
  { method: 'get', path: '/docs/:file', summary: "The reference page's scripts and style sheets (Swagger UI, served from its npm package)", group: 'pages', ...file, answers: { 200: { description: 'JavaScript or CSS', type: 'application/javascript' }, 404: 'no such file' } },
  { method: 'get', path: '/admin', summary: 'The admin page: live plots from /metrics; users, conversations, projections and storage from the admin API (token typed in the page)', group: 'pages', answers: { 200: { description: 'the page', type: 'text/html' } } },
  { method: 'get', path: '/admin/:file', summary: "The admin page's ES modules and style sheet", group: 'pages', ...file, answers: { 200: { description: 'JavaScript or CSS', type: 'application/javascript' }, 404: 'no such file' } },
  { method: 'get', path: '/', summary: 'The web client', group: 'pages', answers: { 200: { description: 'the page', type: 'text/html' } } },
  { method: 'get', path: '/favicon.ico', summary: 'No icon: an empty answer, so that browsers log no error', group: 'pages', answers: { 204: 'no content' } },
  { method: 'get', path: '/app/:file', summary: "The web client's scripts and style", group: 'pages', ...file, answers: { 200: { description: 'JavaScript or CSS', type: 'application/javascript' }, 404: 'no such file' } },
  { method: 'get', path: '/sdk/:file', summary: 'The client SDK as ES modules', group: 'pages', ...file, answers: { 200: { description: 'JavaScript', type: 'application/javascript' }, 404: 'no such file' } },
  { method: 'get', path: '/v1/dev/token', summary: 'A development token (only with CHAT_DEV_TOKENS=1)', group: 'operations', query: z.object({ user: userIdParam, device: userIdParam.optional() }),
    answers: { 200: json(httpAnswers.devToken, 'the token', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' }), 400: 'not a user id' } },
];
