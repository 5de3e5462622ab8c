import { isAttachmentRef, MAX_ATTACHMENTS } from './attachments';
import { NOTIFY_LEVELS, type ConversationEvent, type NotifyLevel } from './events';
import { isConversationId, isUserId, OPERATOR } from './ids';
import { MAX_REPORT_REASON, MAX_SLOW_MODE_SECONDS } from './moderation.rules';
import { hasUnstorableText } from './text';

/**
 * Reads an event as stored in the log, whatever version it was written in, and returns
 * the current shape. Old versions are converted here, never rewritten in the log.
 * Anything that is not a well-formed event yields `undefined`: the projector records it
 * as rejected and moves on, so one bad entry never stops a partition; that includes text
 * the read models cannot store (U+0000, unpaired surrogates: see text.ts).
 */
export function upcast(raw: unknown): ConversationEvent | undefined {
  if (!isRecord(raw) || !isConversationId(str(raw.conversationId)) || typeof raw.at !== 'string') return undefined;
  if (hasUnstorableText(raw)) return undefined;
  if (raw.type === 'ReadMarked' && raw.v === 1) {
    // v1 called the marker `seq`.
    const { seq, ...rest } = raw;
    return upcast({ ...rest, v: 2, upToSeq: seq });
  }
  if (raw.v !== CURRENT_VERSION[raw.type as ConversationEvent['type']]) return undefined;
  switch (raw.type) {
    case 'ConversationCreated':
      return (raw.kind === 'direct' || raw.kind === 'group') && isUserList(raw.members) && isUserId(str(raw.createdBy)) &&
        (raw.title === undefined || typeof raw.title === 'string')
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'MembersAdded':
      return isUserId(str(raw.by)) && isUserList(raw.userIds) ? (raw as unknown as ConversationEvent) : undefined;
    case 'MembersRemoved':
      return isActor(raw.by) && isUserList(raw.userIds) ? (raw as unknown as ConversationEvent) : undefined;
    case 'MessageSent':
      return isUserId(str(raw.senderId)) && typeof raw.clientMsgId === 'string' && typeof raw.body === 'string' &&
        (raw.replyToSeq === undefined || isSeq(raw.replyToSeq)) && (raw.basis === undefined || isSeq(raw.basis)) &&
        (raw.threadRootSeq === undefined || isSeq(raw.threadRootSeq)) && (raw.mentions === undefined || isUserList(raw.mentions)) &&
        (raw.attachments === undefined || (Array.isArray(raw.attachments) && raw.attachments.length <= MAX_ATTACHMENTS && raw.attachments.every(isAttachmentRef)))
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'MessageEdited':
      return isUserId(str(raw.by)) && isSeq(raw.targetSeq) && typeof raw.body === 'string' ? (raw as unknown as ConversationEvent) : undefined;
    case 'MessageDeleted':
      return isActor(raw.by) && isSeq(raw.targetSeq) ? (raw as unknown as ConversationEvent) : undefined;
    case 'ReactionAdded':
    case 'ReactionRemoved':
      return isUserId(str(raw.userId)) && isSeq(raw.targetSeq) && typeof raw.emoji === 'string' && raw.emoji.length > 0
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'ReadMarked':
      return isUserId(str(raw.userId)) && isSeq(raw.upToSeq) ? (raw as unknown as ConversationEvent) : undefined;
    case 'NotifySet':
      return isUserId(str(raw.userId)) && NOTIFY_LEVELS.includes(raw.level as NotifyLevel) &&
        (raw.muteUntil === undefined || isTime(raw.muteUntil))
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'RoleSet':
      return isUserId(str(raw.by)) && isUserId(str(raw.userId)) && (raw.role === 'moderator' || raw.role === 'member') ? (raw as unknown as ConversationEvent) : undefined;
    case 'MemberMuted':
      return isActor(raw.by) && isUserId(str(raw.userId)) && (raw.until === undefined || isTime(raw.until)) ? (raw as unknown as ConversationEvent) : undefined;
    case 'MemberUnmuted':
      return isActor(raw.by) && isUserId(str(raw.userId)) ? (raw as unknown as ConversationEvent) : undefined;
    case 'SlowModeSet':
      return isUserId(str(raw.by)) && Number.isInteger(raw.seconds) && (raw.seconds as number) >= 0 && (raw.seconds as number) <= MAX_SLOW_MODE_SECONDS
        ? (raw as unknown as ConversationEvent)
        : undefined;
    case 'MessageReported':
      return isUserId(str(raw.by)) && isSeq(raw.targetSeq) && typeof raw.reason === 'string' && raw.reason.length > 0 && raw.reason.length <= MAX_REPORT_REASON
        ? (raw as unknown as ConversationEvent)
        : undefined;
    default:
      return undefined;
  }
}

/** The version each event type is written in today; older ones are upcast above. */
export const CURRENT_VERSION: Record<ConversationEvent['type'], number> = {
  ConversationCreated: 1,
  MembersAdded: 1,
  MembersRemoved: 1,
  MessageSent: 1,
  MessageEdited: 1,
  MessageDeleted: 1,
  ReactionAdded: 1,
  ReactionRemoved: 1,
  ReadMarked: 2,
  NotifySet: 1,
  RoleSet: 1,
  MemberMuted: 1,
  MemberUnmuted: 1,
  SlowModeSet: 1,
  MessageReported: 1,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isUserList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((u) => typeof u === 'string' && isUserId(u));
}

/** A user, or the operator on the events operators append (removals, deletes, mutes). */
function isActor(value: unknown): boolean {
  return value === OPERATOR || isUserId(str(value));
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
