import { z } from 'zod';
import type { Ack } from './errors';
import type { ClientEventName, ClientPayload } from './client-payloads.schema';
import {
  chatEventSchema,
  conversationChangedSchema,
  conversationInfoSchema,
  conversationSummarySchema,
  messageDeletedSchema,
  messageEditedSchema,
  messageSchema,
  notifyChangedSchema,
  presenceSchema,
  reactionSchema,
  readMarkerSchema,
  receiptSchema,
  typingSchema,
} from './shapes';

export const syncResultSchema = z.object({
  next: z.string().describe('The cursor to store and pass as `since` next time.'),
  events: z.array(chatEventSchema),
  hasMore: z.boolean(),
  reset: z.literal(true).optional().describe('The cursor was too old to serve: this is a fresh snapshot.'),
  conversations: z.array(conversationSummarySchema).optional().describe('Present on a snapshot (a sync without `since`, or a reset).'),
}).describe('A page of what changed since a cursor, or a snapshot.');
export type SyncResult = z.infer<typeof syncResultSchema>;

const seqResult = z.object({ seq: z.number().int().min(1).describe("The seq of the command's event in the conversation's log.") });
const empty = z.object({});

/** The ack result of every client event (docs/protocol.md "Client to server"), without its `ok: true`. */
export const ackResults = {
  'conversation:create': z.object({ conversation: conversationInfoSchema }),
  'conversation:add_members': seqResult,
  'conversation:remove_members': seqResult,
  'conversation:list': z.object({ conversations: z.array(conversationSummarySchema), next: z.string().optional() }),
  'message:send': z.object({
    seq: z.number().int().min(1),
    sentAt: z.iso.datetime({ offset: true }),
    duplicate: z.boolean().optional().describe('A resend of a clientMsgId already sent: seq and sentAt are those of the first send.'),
  }),
  'message:edit': seqResult,
  'message:delete': seqResult,
  'reaction:add': seqResult,
  'reaction:remove': seqResult,
  sync: syncResultSchema,
  history: z.object({ messages: z.array(messageSchema), hasMore: z.boolean() }),
  read: empty,
  typing: empty,
  'presence:subscribe': z.object({ presence: z.array(presenceSchema) }),
  'presence:unsubscribe': empty,
  'push:register': empty,
  'push:unregister': empty,
  'conversation:notify': seqResult.describe('Extension: the seq of the setting in the log, which orders it against the copies other devices get.'),
  receipts: z.object({ members: z.array(receiptSchema) }),
  'conversation:set_role': seqResult,
  'conversation:mute_member': seqResult,
  'conversation:unmute_member': seqResult,
  'conversation:set_slow_mode': seqResult,
  'message:report': empty,
  search: z.object({
    hits: z.array(messageSchema).describe('Matching messages the caller may read, newest first, as history shows them.'),
    next: z.string().optional().describe('Pass as `before` for the following page; absent on the last page.'),
  }),
  'attachment:create': z.object({
    attachmentId: z.string(),
    uploadUrl: z.string().describe('A presigned S3 PUT: send exactly `size` bytes to it, with `uploadHeaders`, before `expiresAt`.'),
    uploadHeaders: z.record(z.string(), z.string()).describe('Headers the PUT must carry as given (they are signed): Content-Type and Content-Length.'),
    expiresAt: z.iso.datetime({ offset: true }),
  }),
  'attachment:url': z.object({
    url: z.string().describe('A presigned S3 GET of the file, served with its name and content type.'),
    expiresAt: z.iso.datetime({ offset: true }),
  }),
} as const satisfies Record<ClientEventName, z.ZodObject>; // every client event, and no other

/** Ack results per client event (docs/protocol.md "Client to server"). */
export type AckResults = { -readonly [E in keyof typeof ackResults]: z.infer<(typeof ackResults)[E]> };

export type ClientToServerEvents = {
  [E in keyof AckResults]: (payload: ClientPayload<E>, ack: (result: Ack<AckResults[E]>) => void) => void;
};

/** The payload of every event the server sends (docs/protocol.md "Server to client"). */
export const serverEvents = {
  message: messageSchema,
  'message:edited': messageEditedSchema,
  'message:deleted': messageDeletedSchema,
  reaction: reactionSchema,
  conversation: conversationChangedSchema,
  read: readMarkerSchema,
  notify: notifyChangedSchema,
  typing: typingSchema,
  presence: presenceSchema,
  draining: z.object({ reconnectInMs: z.number().int().min(0) }).describe('Extension: the gateway is shutting down; the client reconnects (elsewhere) after about this long, and syncs.'),
} as const;

export type ServerToClientEvents = {
  -readonly [E in keyof typeof serverEvents]: (event: z.infer<(typeof serverEvents)[E]>) => void;
};

/** Every event the server sends, at run time (documents and tests list them). */
export const SERVER_EVENT_NAMES = [
  'message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read', 'notify', 'typing', 'presence', 'draining',
] as const satisfies ReadonlyArray<keyof ServerToClientEvents>;
type Unlisted = Exclude<keyof ServerToClientEvents, (typeof SERVER_EVENT_NAMES)[number]>;
/** Does not compile while an event of ServerToClientEvents is missing from the list. */
export const SERVER_EVENTS_ALL_LISTED: [Unlisted] extends [never] ? true : never = true;
