import type { z } from 'zod';
import {
  ackErrorSchema,
  ackFailureSchema,
  ackResults,
  adminErrorSchema,
  chatEventSchema,
  conversationChangedSchema,
  conversationInfoSchema,
  conversationSummarySchema,
  messageDeletedSchema,
  messageEditedSchema,
  messageSchema,
  notifyChangedSchema,
  notifyLevelSchema,
  notifySettingSchema,
  presenceSchema,
  reactionSchema,
  readMarkerSchema,
  rebuildProgressSchema,
  receiptSchema,
  serverErrorSchema,
  syncResultSchema,
  threadSummarySchema,
  attachmentSchema,
  typingSchema,
  webhookErrorSchema,
} from '@chat/contracts';
import type { SchemaComponents } from './json-schemas';

/** The contracts' shapes under the names docs/protocol.md gives them, in both documents. */
const SHAPES: Array<[z.ZodType, string]> = [
  [messageSchema, 'Message'],
  [threadSummarySchema, 'ThreadSummary'],
  [attachmentSchema, 'Attachment'],
  [notifyLevelSchema, 'NotifyLevel'],
  [notifySettingSchema, 'NotifySetting'],
  [conversationInfoSchema, 'Conversation'],
  [conversationSummarySchema, 'ConversationSummary'],
  [conversationChangedSchema, 'ConversationChanged'],
  [messageEditedSchema, 'MessageEdited'],
  [messageDeletedSchema, 'MessageDeleted'],
  [reactionSchema, 'Reaction'],
  [readMarkerSchema, 'ReadMarker'],
  [typingSchema, 'Typing'],
  [presenceSchema, 'Presence'],
  [notifyChangedSchema, 'NotifyChanged'],
  [receiptSchema, 'Receipt'],
  [chatEventSchema, 'Event'],
  [syncResultSchema, 'SyncResult'],
  [ackErrorSchema, 'AckError'],
  [ackFailureSchema, 'AckFailure'],
  [rebuildProgressSchema, 'RebuildProgress'],
  [webhookErrorSchema, 'WebhookError'],
  [serverErrorSchema, 'ServerError'],
  [adminErrorSchema, 'AdminError'],
  // One schema instance is the result of several events.
  [ackResults['conversation:add_members'], 'SeqResult'],
  [ackResults.read, 'EmptyResult'],
];

export function nameShapes(components: SchemaComponents): void {
  for (const [schema, id] of SHAPES) components.name(schema, id);
}

/** `conversation:add_members` -> `ConversationAddMembers`; `userConversations` -> `UserConversations`. */
export function pascal(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
