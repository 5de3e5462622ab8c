import type { ConversationEvent } from './events';
import { isConversationId, isUserId } from './ids';

/**
 * Reads an event as stored in the log, whatever version it was written in, and returns
 * the current shape. Old versions are converted here, never rewritten in the log.
 * Anything that is not a well-formed event yields `undefined`: the projector records it
 * as rejected and moves on, so one bad entry never stops a partition.
 */
export function upcast(raw: unknown): ConversationEvent | undefined {
  if (!isRecord(raw) || raw.v !== 1 || !isConversationId(str(raw.conversationId)) || typeof raw.at !== 'string') {
    return undefined;
  }
  switch (raw.type) {
    case 'ConversationCreated':
      return (raw.kind === 'direct' || raw.kind === 'group') && isUserList(raw.members) && isUserId(str(raw.createdBy)) &&
        (raw.title === undefined || typeof raw.title === 'string')
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'MembersAdded':
    case 'MembersRemoved':
      return isUserId(str(raw.by)) && isUserList(raw.userIds) ? (raw as unknown as ConversationEvent) : undefined;
    case 'MessageSent':
      return isUserId(str(raw.senderId)) && typeof raw.clientMsgId === 'string' && typeof raw.body === 'string' &&
        (raw.replyToSeq === undefined || isSeq(raw.replyToSeq))
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'ReadMarked':
      return isUserId(str(raw.userId)) && isSeq(raw.seq) ? (raw as unknown as ConversationEvent) : undefined;
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isUserList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((u) => typeof u === 'string' && isUserId(u));
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
