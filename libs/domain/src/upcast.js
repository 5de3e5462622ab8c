import { isConversationId, isUserId } from './ids';
/**
 * Reads an event as stored in the log, whatever version it was written in, and returns
 * the current shape. Old versions are converted here, never rewritten in the log.
 * Anything that is not a well-formed event yields `undefined`: the projector records it
 * as rejected and moves on, so one bad entry never stops a partition.
 */
export function upcast(raw) {
    if (!isRecord(raw) || !isConversationId(str(raw.conversationId)) || typeof raw.at !== 'string')
        return undefined;
    if (raw.type === 'ReadMarked' && raw.v === 1) {
        // v1 called the marker `seq`.
        const { seq, ...rest } = raw;
        return upcast({ ...rest, v: 2, upToSeq: seq });
    }
    if (raw.v !== CURRENT_VERSION[raw.type])
        return undefined;
    switch (raw.type) {
        case 'ConversationCreated':
            return (raw.kind === 'direct' || raw.kind === 'group') && isUserList(raw.members) && isUserId(str(raw.createdBy)) &&
                (raw.title === undefined || typeof raw.title === 'string')
                ? raw
                : undefined;
        case 'MembersAdded':
        case 'MembersRemoved':
            return isUserId(str(raw.by)) && isUserList(raw.userIds) ? raw : undefined;
        case 'MessageSent':
            return isUserId(str(raw.senderId)) && typeof raw.clientMsgId === 'string' && typeof raw.body === 'string' &&
                (raw.replyToSeq === undefined || isSeq(raw.replyToSeq))
                ? raw
                : undefined;
        case 'MessageEdited':
            return isUserId(str(raw.by)) && isSeq(raw.targetSeq) && typeof raw.body === 'string' ? raw : undefined;
        case 'MessageDeleted':
            return isUserId(str(raw.by)) && isSeq(raw.targetSeq) ? raw : undefined;
        case 'ReactionAdded':
        case 'ReactionRemoved':
            return isUserId(str(raw.userId)) && isSeq(raw.targetSeq) && typeof raw.emoji === 'string' && raw.emoji.length > 0
                ? raw
                : undefined;
        case 'ReadMarked':
            return isUserId(str(raw.userId)) && isSeq(raw.upToSeq) ? raw : undefined;
        default:
            return undefined;
    }
}
/** The version each event type is written in today; older ones are upcast above. */
export const CURRENT_VERSION = {
    ConversationCreated: 1,
    MembersAdded: 1,
    MembersRemoved: 1,
    MessageSent: 1,
    MessageEdited: 1,
    MessageDeleted: 1,
    ReactionAdded: 1,
    ReactionRemoved: 1,
    ReadMarked: 2,
};
function isRecord(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function str(value) {
    return typeof value === 'string' ? value : '';
}
function isUserList(value) {
    return Array.isArray(value) && value.every((u) => typeof u === 'string' && isUserId(u));
}
function isSeq(value) {
    return Number.isSafeInteger(value) && value >= 0;
}
