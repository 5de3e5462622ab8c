import type { Message, ThreadSummary } from '@chat/contracts';

/** docs/protocol.md "Shapes": a root's summary names up to 10 repliers (the SDK runs without the domain library). */
export const THREAD_PARTICIPANTS_MAX = 10;

/**
 * A root's `thread` summary with one more reply, as the server's projection would have it.
 * The server sends no event when a root's summary changes (only the reply's own `message`,
 * which names its root), so a client keeps its copy of the root current with this. A reply
 * at or before `lastReplySeq` is in the summary already (the summary came from a `history`
 * page or a snapshot read after it): the summary is returned unchanged, so applying a reply
 * twice, or one the server had counted, changes nothing.
 */
export function withReply(summary: ThreadSummary | undefined, reply: Pick<Message, 'seq' | 'senderId' | 'sentAt'>): ThreadSummary {
  if (summary && reply.seq <= summary.lastReplySeq) return summary;
  const before = summary?.participants ?? [];
  return {
    replies: (summary?.replies ?? 0) + 1,
    lastReplySeq: reply.seq,
    lastReplyAt: reply.sentAt,
    participants: [reply.senderId, ...before.filter((u) => u !== reply.senderId)].slice(0, THREAD_PARTICIPANTS_MAX),
  };
}

/**
 * The root's summary brought up to the replies a client holds: those after the summary's
 * `lastReplySeq`, in seq order. For a root read from `history` after some of its replies
 * came live (the page may have been read before the projection counted them).
 */
export function withReplies(summary: ThreadSummary | undefined, replies: Iterable<Pick<Message, 'seq' | 'senderId' | 'sentAt'>>): ThreadSummary | undefined {
  let next = summary;
  for (const r of [...replies].sort((a, b) => a.seq - b.seq)) next = withReply(next, r);
  return next;
}
