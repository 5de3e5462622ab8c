import type { ChatEvent, Message } from '@chat/contracts';
import type { NotifyLevel } from '@chat/domain';

/** Everything one batch of one partition writes, computed before the transaction opens. */
export interface ProjectionWrites {
  partition: number;
  /** The checkpoint the batch starts from: the commit fails if another writer moved past it. */
  fromSeq: number;
  toSeq: number;
  conversations: ConversationRow[];
  memberInserts: MemberRow[];
  memberDeletes: Array<{ conversationId: string; userId: string }>;
  /** Applied after the timeline rows, so a marker can count the batch's own messages. */
  readMarkers: Array<{ conversationId: string; userId: string; seq: number }>;
  timeline: TimelineRow[];
  /** Messages stored before the batch, folded with the batch's edits, deletes and reactions. */
  messageUpdates: Array<{ conversationId: string; seq: number; payload: Message; changedSeq: number }>;
  /** Deleted messages whose earlier edit events must lose their body too; `seq`: the delete's. */
  scrubEdits: Array<{ conversationId: string; targetSeq: number; seq: number }>;
  /** Membership periods the batch opened (leftSeq null) or opened and closed. */
  periodInserts: Array<{ conversationId: string; userId: string; joinedSeq: number; leftSeq: number | null }>;
  /** Open periods from earlier batches that the batch closed. */
  periodCloses: Array<{ conversationId: string; userId: string; leftSeq: number }>;
  /** Members a message mentions (never its sender): unreadMentions counts them past the marker. */
  mentions: Array<{ conversationId: string; userId: string; seq: number }>;
  /** Deleted messages: their mentions go. Applied after `mentions`. */
  mentionDeletes: Array<{ conversationId: string; seq: number }>;
  /** Attachments of deleted messages (`seq`: the delete's): the archiver deletes their objects, then their rows here. */
  attachmentDeletions: Array<{ conversationId: string; attachmentId: string; seq: number }>;
  /** Members' notification settings, applied after the member rows (a user added back starts from the default). */
  notifySettings: Array<{ conversationId: string; userId: string; level: NotifyLevel; muteUntil: string | null }>;
  /** Roles and mutes of members the batch changed, as it leaves them; applied after the member rows. */
  memberModeration: Array<{ conversationId: string; userId: string; role: 'member' | 'moderator'; mutedSeq: number | null; mutedUntil: string | null }>;
  /** Messages reported to the operators (`seq`: the report's). */
  reports: Array<{ conversationId: string; seq: number; targetSeq: number; reportedBy: string; reason: string; reportedAt: string }>;
  clientMsgIds: Array<{ senderId: string; clientMsgId: string; conversationId: string; seq: number; sentAt: string }>;
  inbox: Array<{ userId: string; seq: number; conversationId: string }>;
  rejected: Array<{ seq: number; conversationId: string | null; code: string; reason: string }>;
}

/** The final state of a conversation touched by the batch. */
export interface ConversationRow {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  createdBy: string;
  createdAt: string;
  directKey: string | null;
  lastSeq: number;
  messageCount: number;
  memberCount: number;
  /** The batch left some event to the timeline (pull); never goes back to false. */
  everPulled: boolean;
  /** Undefined keeps the stored value (a batch with only read markers). */
  lastActivityAt?: string;
  /** Undefined keeps the stored value. */
  lastMessage?: ChatEvent;
  /** Slow mode as the batch leaves it; absent: off. */
  slowModeSeconds?: number;
  slowModeSeq?: number;
}

export interface MemberRow {
  conversationId: string;
  userId: string;
  joinedSeq: number;
}

export interface TimelineRow {
  conversationId: string;
  seq: number;
  kind: ChatEvent['type'];
  messageNo: number | null;
  targetSeq: number | null;
  pulled: boolean;
  payload: ChatEvent;
  at: string;
  /** The last event of the batch that changed `payload` after this row's own event (null: none). */
  changedSeq: number | null;
}

export function emptyWrites(partition: number, fromSeq: number): ProjectionWrites {
  return {
    partition, fromSeq, toSeq: fromSeq, conversations: [], memberInserts: [], memberDeletes: [], readMarkers: [],
    timeline: [], messageUpdates: [], scrubEdits: [], periodInserts: [], periodCloses: [], mentions: [], mentionDeletes: [], attachmentDeletions: [], notifySettings: [], memberModeration: [], reports: [], clientMsgIds: [], inbox: [], rejected: [],
  };
}

/** "<a>\n<b>" of the sorted pair: the key that makes a direct pair one conversation. */
export function directKey(members: string[]): string {
  return [...members].sort().join('\n');
}

export const clientMsgKey = (senderId: string, clientMsgId: string) => `${senderId}\n${clientMsgId}`;
export const messageKey = (conversationId: string, seq: number) => `${conversationId}\n${seq}`;
export const readerKey = (conversationId: string, userId: string) => `${conversationId}\n${userId}`;
