import { z } from 'zod';
import { ackErrorSchema } from './errors';
import { conversationSummarySchema, messageSchema, presenceSchema } from './shapes';
import { ackResults } from './socket-events';

/**
 * docs/protocol.md "Admin API", "Server API" and the operations routes: what each HTTP route
 * answers, as zod schemas. The controllers' return types are inferred from these (the
 * compiler holds each answer to its schema) and /docs/openapi.json is generated from them.
 */

const time = z.iso.datetime({ offset: true });
const next = z.string().optional().describe('The cursor of the next page: pass it as `cursor`. Absent on the last page.');

export const rebuildProgressSchema = z.object({
  projection: z.string(),
  state: z.enum(['building', 'catching_up', 'swapping', 'done', 'failed']),
  applied: z.number().int().min(0).describe('Events replayed into the fresh copy so far.'),
  total: z.number().int().min(0).describe('Events in the log when the rebuild started (it also replays what arrives meanwhile).'),
  eventsPerSecond: z.number().min(0),
  startedAt: time,
  finishedAt: time.optional(),
  error: z.string().optional(),
}).describe("A projection's rebuild: replayed into a fresh copy, then swapped in.");

export const webhookErrorSchema = z.object({
  message: z.string(),
  at: time,
  conversationId: z.string(),
  seq: z.number().int().min(1),
  attempts: z.number().int().min(1),
}).describe("The last call the integrator's endpoint refused or did not answer.");

/** What the webhook sender reports per partition (kept in Redis, a view: losing it loses nothing else). */
export const webhookReportSchema = z.object({
  retrying: z.number().int().min(0).describe('Events whose call failed and that are being tried again now.'),
  lastDeliveredAt: time.optional(),
  lastError: webhookErrorSchema.optional(),
  reportedAt: time.describe('When the sender wrote this report (a report that stops changing: no sender runs).'),
});

/** The body of every refusal of `/v1/server/*`, with the code's HTTP status. */
export const serverErrorSchema = z.object({ error: ackErrorSchema }).describe('A refusal of the server API: the socket error code as the HTTP status.');

/**
 * The body of every refusal of the admin routes (Nest's exception body): a 400 carries the
 * contract's `{ code, message }` in `error`, other statuses the status's name.
 */
export const adminErrorSchema = z.object({
  statusCode: z.number().int(),
  message: z.string().describe('What was wrong; a 400 names the parameter.'),
  error: z.union([z.string(), z.object({ code: z.literal('BAD_REQUEST'), message: z.string() })]),
}).describe('A refusal of an admin route.');

export const httpAnswers = {
  userConversations: z.object({ conversations: z.array(conversationSummarySchema), next }),
  userPresence: presenceSchema,
  userConnections: z.object({
    connections: z.array(z.object({
      connectionId: z.string(),
      node: z.string().describe('The gateway process holding it.'),
      epoch: z.number().int(),
      expiresAt: time.describe('When its heartbeat lease runs out unless renewed.'),
    })),
    next,
  }),
  pushDecisions: z.object({
    decisions: z.array(z.object({
      id: z.number().int().min(1),
      conversationId: z.string(),
      seq: z.number().int().min(1),
      toSeq: z.number().int().min(1).optional().describe('`online` decisions: the last seq of the range.'),
      messages: z.number().int().min(1).optional().describe('`online` decisions: how many messages the range holds.'),
      decision: z.string().describe("`woken`, or why not (the notifier's decision)."),
      detail: z.string().optional(),
      at: time,
    })),
    next,
  }),
  conversation: z.object({
    conversation: z.object({
      id: z.string(),
      type: z.string().describe('`direct` or `group`.'),
      title: z.string().optional(),
      partition: z.number().int().min(0),
      createdBy: z.string(),
      createdAt: time,
      lastSeq: z.number().int().min(0),
      messageCount: z.number().int().min(0),
      memberCount: z.number().int().min(0),
      lastActivityAt: time,
    }),
    members: z.array(z.object({ userId: z.string(), joinedSeq: z.number().int().min(0), lastReadSeq: z.number().int().min(0), unread: z.number().int().min(0) })),
    next,
  }),
  conversationMessages: z.object({ messages: z.array(messageSchema), next }),
  projections: z.object({
    projections: z.array(z.object({
      name: z.string(),
      partitions: z.array(z.object({
        partition: z.number().int().min(0),
        stream: z.string(),
        lastSeq: z.number().int().min(0),
        checkpoint: z.number().int().min(0),
        lagEvents: z.number().int().min(0),
        lagSeconds: z.number().min(0),
      })),
      rebuild: rebuildProgressSchema.optional().describe('The last rebuild this process started.'),
    })),
  }),
  rebuild: z.object({ rebuild: rebuildProgressSchema }),
  webhooks: z.object({
    enabled: z.boolean(),
    url: z.string().optional().describe('CHAT_WEBHOOK_URL without its query string.'),
    partitions: z.array(webhookReportSchema.partial({ reportedAt: true }).extend({
      partition: z.number().int().min(0),
      stream: z.string(),
      lastSeq: z.number().int().min(0),
      consumer: z.string().optional(),
      position: z.number().int().min(0).optional().describe('The last seq before the first event not yet delivered.'),
      lag: z.number().int().min(0).optional(),
    })),
    next,
  }),
  storage: z.object({
    tiers: z.array(z.object({
      tier: z.string().describe('`hot` (Postgres), `warm` or `cold` (blocks in S3).'),
      messages: z.number().int().min(0),
      bytes: z.number().int().min(0),
      blocks: z.number().int().min(0).optional(),
      rawBytes: z.number().int().min(0).optional(),
      oldest: time.optional(),
      newest: time.optional(),
    })),
    damaged: z.array(z.object({ tier: z.string(), conversationId: z.string(), firstSeq: z.number().int().min(1), reason: z.string(), detectedAt: time })),
  }),
  node: z.object({
    nodeId: z.string(),
    connections: z.number().int().min(0),
    rooms: z.array(z.string()),
    receivedByConversation: z.record(z.string(), z.number().int().min(0)),
  }),
  serverToken: z.object({ token: z.string().describe('A JWT to pass as `auth: { token }` to a socket.'), expiresAt: time }),
  serverConversation: ackResults['conversation:create'],
  serverSeq: ackResults['conversation:add_members'],
  serverSend: ackResults['message:send'],
  reports: z.object({
    reports: z.array(z.object({
      conversationId: z.string(),
      seq: z.number().int().min(1).describe("The report's seq in the log."),
      targetSeq: z.number().int().min(1).describe('The reported message.'),
      reportedBy: z.string(),
      reason: z.string(),
      reportedAt: time,
      message: messageSchema.optional().describe('The reported message as it is now (absent if it is not found in any tier).'),
      context: z.array(messageSchema).describe("The messages around it (its thread's, for a reply), ascending."),
    })),
    next,
  }),
  blocked: z.object({ userId: z.string(), blocked: z.literal(true), blockedAt: time }),
  unblocked: z.object({ userId: z.string(), blocked: z.literal(false), wasBlocked: z.boolean() }),
  blockStatus: z.object({ userId: z.string(), blocked: z.boolean(), blockedAt: time.optional() }),
  blocks: z.object({ blocks: z.array(z.object({ userId: z.string(), blockedAt: time })), next }),
  healthz: z.object({ status: z.literal('ok') }),
  healthDown: z.object({ status: z.literal('unavailable'), down: z.array(z.string()), checks: z.record(z.string(), z.string()) }),
  readyz: z.object({
    status: z.enum(['ready', 'unavailable']),
    down: z.array(z.string()).describe('The dependencies (and sibling processes) that do not answer.'),
    checks: z.record(z.string(), z.string()).describe('`up`, or what is wrong, per dependency.'),
  }),
  devToken: z.object({ token: z.string() }),
} as const;

export type HttpAnswer<K extends keyof typeof httpAnswers> = z.infer<(typeof httpAnswers)[K]>;
