import type {
  AckResults,
  ClientEventName,
  ClientPayload,
  ConversationInfo,
  ConversationSummary,
  Message,
  ServerToClientEvents,
} from '@chat/contracts';

/**
 * The documents' examples: one conversation between alice, bob and carol. Typed by the
 * contracts' inferred types, so an example that no longer fits its shape does not compile;
 * the documents' test also validates each against the JSON Schema the document gives.
 */
export const GROUP = 'g_4kQv0Zr1XbTq8mWn2sPa';
const AT = '2030-01-31T12:00:00.000Z';
const LATER = '2030-01-31T12:00:05.000Z';
const ATTACHMENT = '3f0c1f2e-8b4a-4c1d-9e6f-2a7b5c9d0e14';

export const EXAMPLE_MESSAGE: Message = {
  type: 'message', conversationId: GROUP, seq: 12, senderId: 'alice', clientMsgId: 'c-7f3a', body: 'Lunch at noon? @bob', sentAt: AT,
  mentions: ['bob'],
  attachments: [{ id: ATTACHMENT, name: 'menu.pdf', contentType: 'application/pdf', size: 48213 }],
};

export const EXAMPLE_CONVERSATION: ConversationInfo = {
  id: GROUP, type: 'group', title: 'Lunch', members: ['alice', 'bob', 'carol'], createdBy: 'alice', createdAt: '2030-01-30T09:00:00.000Z', lastSeq: 1,
};

export const EXAMPLE_SUMMARY: ConversationSummary = {
  id: GROUP, type: 'group', title: 'Lunch', memberCount: 3, lastSeq: 12, lastReadSeq: 10, unread: 2, unreadMentions: 1,
  notify: { level: 'all' }, lastMessage: EXAMPLE_MESSAGE, lastActivityAt: AT, members: ['alice', 'bob', 'carol'],
};

type ServerEventName = keyof ServerToClientEvents;
type Payload<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>[0];

/** Every client event's example payload and its ack's result (without `ok: true`). */
export const CLIENT_EVENT_EXAMPLES: { [E in ClientEventName]: { payload: ClientPayload<E>; result: AckResults[E] } } = {
  'conversation:create': { payload: { type: 'group', members: ['bob', 'carol'], title: 'Lunch' }, result: { conversation: EXAMPLE_CONVERSATION } },
  'conversation:add_members': { payload: { conversationId: GROUP, userIds: ['dave'] }, result: { seq: 13 } },
  'conversation:remove_members': { payload: { conversationId: GROUP, userIds: ['dave'] }, result: { seq: 14 } },
  'conversation:list': { payload: { limit: 20 }, result: { conversations: [EXAMPLE_SUMMARY] } },
  'message:send': {
    payload: { conversationId: GROUP, clientMsgId: 'c-7f3a', body: 'Lunch at noon? @bob', mentions: ['bob'] },
    result: { seq: 12, sentAt: AT },
  },
  'message:edit': { payload: { conversationId: GROUP, seq: 12, body: 'Lunch at one? @bob' }, result: { seq: 15 } },
  'message:delete': { payload: { conversationId: GROUP, seq: 12 }, result: { seq: 16 } },
  'reaction:add': { payload: { conversationId: GROUP, seq: 12, emoji: '👍' }, result: { seq: 17 } },
  'reaction:remove': { payload: { conversationId: GROUP, seq: 12, emoji: '👍' }, result: { seq: 18 } },
  sync: {
    payload: { since: 'eyJ2IjoxfQ', limit: 200 },
    result: { next: 'eyJ2IjoyfQ', events: [EXAMPLE_MESSAGE], hasMore: false },
  },
  history: { payload: { conversationId: GROUP, beforeSeq: 13, limit: 50 }, result: { messages: [EXAMPLE_MESSAGE], hasMore: true } },
  read: { payload: { conversationId: GROUP, seq: 12 }, result: {} },
  typing: { payload: { conversationId: GROUP, state: 'start' }, result: {} },
  'presence:subscribe': { payload: { userIds: ['bob', 'carol'] }, result: { presence: [{ userId: 'bob', status: 'online' }, { userId: 'carol', status: 'offline', lastSeenAt: AT }] } },
  'presence:unsubscribe': { payload: { userIds: ['carol'] }, result: {} },
  'push:register': { payload: { platform: 'webhook', token: 'https://push.example.com/hooks/alice' }, result: {} },
  'push:unregister': { payload: {}, result: {} },
  'conversation:notify': { payload: { conversationId: GROUP, level: 'mentions', muteUntil: LATER }, result: { seq: 14 } },
  receipts: { payload: { conversationId: GROUP }, result: { members: [{ userId: 'alice', lastReadSeq: 12 }, { userId: 'bob', lastReadSeq: 10 }] } },
  'conversation:set_role': { payload: { conversationId: GROUP, userId: 'bob', role: 'moderator' }, result: { seq: 19 } },
  'conversation:mute_member': { payload: { conversationId: GROUP, userId: 'carol', until: LATER }, result: { seq: 20 } },
  'conversation:unmute_member': { payload: { conversationId: GROUP, userId: 'carol' }, result: { seq: 21 } },
  'conversation:set_slow_mode': { payload: { conversationId: GROUP, seconds: 30 }, result: { seq: 22 } },
  'message:report': { payload: { conversationId: GROUP, seq: 12, reason: 'spam' }, result: {} },
  search: { payload: { query: '"lunch at" one', conversationId: GROUP, limit: 20 }, result: { hits: [EXAMPLE_MESSAGE], next: 'WyIyMDMwLTAxLTMxVDEyOjAwOjAwLjAwMFoiLCJnX2x1bmNoIiwxMl0' } },
  'attachment:create': {
    payload: { conversationId: GROUP, name: 'menu.pdf', contentType: 'application/pdf', size: 48213 },
    result: {
      attachmentId: ATTACHMENT,
      uploadUrl: `https://s3.example.com/chat/chat/attachments/${GROUP}/${ATTACHMENT}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=...`,
      uploadHeaders: { 'Content-Type': 'application/pdf', 'Content-Length': '48213' },
      expiresAt: '2030-01-31T12:15:00.000Z',
    },
  },
  'attachment:url': {
    payload: { conversationId: GROUP, attachmentId: ATTACHMENT },
    result: { url: `https://s3.example.com/chat/chat/attachments/${GROUP}/${ATTACHMENT}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=...`, expiresAt: '2030-01-31T12:15:00.000Z' },
  },
};

/** Every server event's example payload. */
export const SERVER_EVENT_EXAMPLES: { [E in ServerEventName]: Payload<E> } = {
  message: EXAMPLE_MESSAGE,
  'message:edited': { type: 'message:edited', conversationId: GROUP, seq: 15, targetSeq: 12, body: 'Lunch at one? @bob', editedAt: LATER },
  'message:deleted': { type: 'message:deleted', conversationId: GROUP, seq: 16, targetSeq: 12 },
  reaction: { type: 'reaction', conversationId: GROUP, seq: 17, targetSeq: 12, userId: 'bob', emoji: '👍', op: 'add' },
  conversation: { type: 'conversation', conversationId: GROUP, seq: 13, change: 'members_added', userIds: ['dave'] },
  read: { type: 'read', conversationId: GROUP, userId: 'bob', seq: 12 },
  notify: { type: 'notify', conversationId: GROUP, seq: 19, level: 'mentions', muteUntil: LATER },
  typing: { type: 'typing', conversationId: GROUP, userId: 'bob', state: 'start' },
  presence: { userId: 'bob', status: 'online' },
  draining: { reconnectInMs: 2000 },
};

/** A refused command's ack. */
export const EXAMPLE_REFUSAL = { ok: false as const, error: { code: 'RATE_LIMITED' as const, message: 'too many sends', retryAfterMs: 1200 } };
