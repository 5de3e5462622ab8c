import { z } from 'zod';
import { NOTIFY_LEVELS } from '@chat/domain';

/**
 * docs/protocol.md "Shapes": what clients receive, as zod schemas. The TypeScript types are
 * inferred from them, and /docs/openapi.json and /docs/asyncapi.json are generated from
 * them, so the code, the types and the documents cannot disagree. The descriptions given
 * with `.describe()` are the documents' descriptions.
 */

const seq = z.number().int().min(0);
/** Every time of the protocol: ISO-8601 with its zone (the server writes `toISOString()`). */
const time = z.iso.datetime({ offset: true });

export const threadSummarySchema = z.object({
  replies: z.number().int().min(1),
  lastReplySeq: seq,
  lastReplyAt: time,
  participants: z.array(z.string()).describe('Up to 10 distinct repliers, most recent first.'),
}).describe("A thread root's summary, once it has replies.");
export type ThreadSummary = z.infer<typeof threadSummarySchema>;

export const attachmentSchema = z.object({
  id: z.string().describe('Pass it to `attachment:url` for a download URL.'),
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().min(0).describe('Bytes.'),
}).describe('A file sent with a message: its metadata (the bytes are in S3, fetched through `attachment:url`).');
export type Attachment = z.infer<typeof attachmentSchema>;

export const messageSchema = z.object({
  type: z.literal('message'),
  conversationId: z.string(),
  seq,
  senderId: z.string(),
  clientMsgId: z.string(),
  body: z.string(),
  sentAt: time,
  replyToSeq: seq.optional(),
  editedAt: time.optional(),
  deleted: z.boolean().optional(),
  reactions: z.record(z.string(), z.array(z.string())).optional().describe('Emoji -> the users who reacted with it (absent when there are none).'),
  threadRootSeq: seq.optional().describe('A reply in the thread of the message at this seq.'),
  mentions: z.array(z.string()).optional().describe('The users the message mentions.'),
  thread: threadSummarySchema.optional(),
  attachments: z.array(attachmentSchema).optional().describe('Files sent with the message, in the order sent; a deleted message has none.'),
}).describe('A message, as history, sync and the live `message` event carry it.');
export type Message = z.infer<typeof messageSchema>;

export const notifyLevelSchema = z.enum(NOTIFY_LEVELS);
export type NotifyLevel = z.infer<typeof notifyLevelSchema>;

export const notifySettingSchema = z.object({
  level: notifyLevelSchema,
  muteUntil: time.optional().describe('Nothing notifies before this time, whatever the level.'),
}).describe("A member's notification setting for a conversation.");
export type NotifySetting = z.infer<typeof notifySettingSchema>;

export const rolesSchema = z.record(z.string(), z.enum(['owner', 'moderator'])).describe("A group's roles: the owner (the creator, while a member) and the moderators; a member not named is a plain member.");
export type Roles = z.infer<typeof rolesSchema>;

export const muteInfoSchema = z.object({
  until: time.optional().describe('The end of the mute; absent: until unmuted.'),
}).describe("Extension: a muted member's mute.");
export type MuteInfo = z.infer<typeof muteInfoSchema>;

export const conversationInfoSchema = z.object({
  id: z.string(),
  type: z.enum(['direct', 'group']),
  title: z.string().optional(),
  members: z.array(z.string()),
  createdBy: z.string(),
  createdAt: time,
  lastSeq: seq,
  roles: rolesSchema.optional().describe('Second edition: `{}` for a direct conversation. Always sent by this server; optional for older ones.'),
  muted: z.record(z.string(), muteInfoSchema).optional().describe('Extension: muted members (a mute whose `until` passed no longer holds).'),
  slowModeSeconds: z.number().int().min(1).optional().describe('Extension: while slow mode is on, members other than the owner and moderators send one message per this many seconds.'),
}).describe('A conversation with its members.');
export type ConversationInfo = z.infer<typeof conversationInfoSchema>;

/** A conversation summary lists its members up to this many (docs/protocol.md, "Read state, sender's view"). */
export const SUMMARY_MEMBERS_MAX = 20;

export const conversationSummarySchema = z.object({
  id: z.string(),
  type: z.enum(['direct', 'group']),
  title: z.string().optional(),
  memberCount: z.number().int().min(0),
  lastSeq: seq,
  lastReadSeq: seq,
  unread: z.number().int().min(0),
  unreadMentions: z.number().int().min(0).describe('Unread messages that mention the user.'),
  notify: notifySettingSchema,
  lastMessage: messageSchema.optional(),
  lastActivityAt: time.describe('When the conversation last changed, for `conversation:list` paging.'),
  members: z.array(z.string()).optional().describe(`The member ids, ordered by join (ties by id), when the conversation has at most ${SUMMARY_MEMBERS_MAX} members (always, for a direct one).`),
  peerId: z.string().optional().describe("Direct conversations only: the other member's id."),
  roles: rolesSchema.optional().describe("Extension: the group's roles, as in `Conversation.roles` (absent for a direct conversation)."),
  muted: muteInfoSchema.optional().describe("Extension: the user's own mute here, while it holds."),
  slowModeSeconds: z.number().int().min(1).optional().describe('Extension: while slow mode is on.'),
}).describe("One of a user's conversations, with the user's read state and setting.");
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

export const conversationChangeSchema = z.enum(['created', 'members_added', 'members_removed', 'role_changed', 'member_muted', 'member_unmuted', 'slow_mode']);
export type ConversationChange = z.infer<typeof conversationChangeSchema>;

export const conversationChangedSchema = z.object({
  type: z.literal('conversation'),
  conversationId: z.string(),
  seq,
  change: conversationChangeSchema.describe('`role_changed` is the second edition\'s; `member_muted`, `member_unmuted` and `slow_mode` are extensions.'),
  userIds: z.array(z.string()).describe('Whom it changes: the members added or removed, the member whose role or mute changed; `[]` for slow mode.'),
  conversation: conversationInfoSchema.optional(),
  by: z.string().optional().describe('Extension, on moderation changes: who made it (a member, or `~operator`).'),
  role: z.enum(['moderator', 'member']).optional().describe("`role_changed`: the member's new role."),
  until: time.optional().describe('`member_muted`: the end of the mute (absent: until unmuted).'),
  seconds: z.number().int().min(0).optional().describe('`slow_mode`: one message per this many seconds; 0 turns it off.'),
}).describe('A conversation was created, members joined or left, or a moderator changed a role, a mute or slow mode.');
export type ConversationChanged = z.infer<typeof conversationChangedSchema>;

export const messageEditedSchema = z.object({
  type: z.literal('message:edited'),
  conversationId: z.string(),
  seq,
  targetSeq: seq,
  body: z.string(),
  editedAt: time,
}).describe('The message at targetSeq has a new body.');
export type MessageEdited = z.infer<typeof messageEditedSchema>;

export const messageDeletedSchema = z.object({
  type: z.literal('message:deleted'),
  conversationId: z.string(),
  seq,
  targetSeq: seq,
}).describe('The message at targetSeq was deleted.');
export type MessageDeleted = z.infer<typeof messageDeletedSchema>;

export const reactionSchema = z.object({
  type: z.literal('reaction'),
  conversationId: z.string(),
  seq,
  targetSeq: seq,
  userId: z.string(),
  emoji: z.string(),
  op: z.enum(['add', 'remove']),
}).describe('A reaction to the message at targetSeq was added or removed.');
export type Reaction = z.infer<typeof reactionSchema>;

export const readMarkerSchema = z.object({
  type: z.literal('read'),
  conversationId: z.string(),
  userId: z.string(),
  seq: seq.describe('The marker itself (not a position in the log).'),
}).describe("A member's read marker moved forward.");
export type ReadMarker = z.infer<typeof readMarkerSchema>;

export const typingSchema = z.object({
  type: z.literal('typing'),
  conversationId: z.string(),
  userId: z.string(),
  state: z.enum(['start', 'stop']),
}).describe('A member started or stopped typing (relayed live, never stored).');
export type Typing = z.infer<typeof typingSchema>;

export const presenceSchema = z.object({
  userId: z.string(),
  status: z.enum(['online', 'offline']),
  lastSeenAt: time.optional(),
}).describe("A user's presence.");
export type Presence = z.infer<typeof presenceSchema>;

export const notifyChangedSchema = notifySettingSchema.extend({
  type: z.literal('notify'),
  conversationId: z.string(),
  seq,
}).describe("The user's own notification setting changed (on any of its devices); only that user's devices receive it.");
export type NotifyChanged = z.infer<typeof notifyChangedSchema>;

export const receiptSchema = z.object({
  userId: z.string(),
  lastReadSeq: seq,
}).describe("A member's read marker, in the `receipts` answer.");
export type Receipt = z.infer<typeof receiptSchema>;

export const chatEventSchema = z.discriminatedUnion('type', [
  messageSchema, messageEditedSchema, messageDeletedSchema, reactionSchema, conversationChangedSchema, readMarkerSchema, notifyChangedSchema,
]).describe('What `sync` returns and what is delivered live; `type` is the socket event name.');
export type ChatEvent = z.infer<typeof chatEventSchema>;
