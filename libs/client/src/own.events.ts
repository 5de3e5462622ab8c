import type { AckResults, ChatEvent, ClientPayload } from '@chat/contracts';

/**
 * The server relays a command's event to every connection but the one that sent it (that
 * one has the ack). So that an app renders one stream, the SDK makes the event the others
 * receive from the command and its ack: what `ownEvent` returns is what a live copy of it
 * would carry (`editedAt` excepted, which is the client's clock).
 */
export function ownEvent<E extends keyof AckResults>(
  command: E,
  payload: ClientPayload<E>,
  result: AckResults[E],
  userId: string,
  now: () => string = () => new Date().toISOString(),
): ChatEvent | undefined {
  // Each case narrows by hand: TypeScript does not narrow a generic by its key.
  switch (command) {
    case 'message:send': {
      const p = payload as ClientPayload<'message:send'>;
      const r = result as AckResults['message:send'];
      return {
        type: 'message', conversationId: p.conversationId, seq: r.seq, senderId: userId, clientMsgId: p.clientMsgId, body: p.body, sentAt: r.sentAt,
        ...(p.replyToSeq !== undefined && { replyToSeq: p.replyToSeq }),
        ...(p.threadRootSeq !== undefined && { threadRootSeq: p.threadRootSeq }),
        // As the server keeps them: each once; an empty list is no mentions.
        ...(p.mentions !== undefined && p.mentions.length > 0 && { mentions: [...new Set(p.mentions)] }),
      };
    }
    case 'message:edit': {
      const p = payload as ClientPayload<'message:edit'>;
      const r = result as AckResults['message:edit'] & { editedAt?: string };
      return { type: 'message:edited', conversationId: p.conversationId, seq: r.seq, targetSeq: p.seq, body: p.body, editedAt: r.editedAt ?? now() };
    }
    case 'message:delete': {
      const p = payload as ClientPayload<'message:delete'>;
      return { type: 'message:deleted', conversationId: p.conversationId, seq: (result as AckResults['message:delete']).seq, targetSeq: p.seq };
    }
    case 'reaction:add':
    case 'reaction:remove': {
      const p = payload as ClientPayload<'reaction:add'>;
      return {
        type: 'reaction', conversationId: p.conversationId, seq: (result as AckResults['reaction:add']).seq, targetSeq: p.seq, userId, emoji: p.emoji,
        op: command === 'reaction:add' ? 'add' : 'remove',
      };
    }
    case 'conversation:create': {
      // A new conversation's last seq is its creation. Creating a direct pair again answers
      // the existing one: this event then holds the seq of its latest event, which, when the
      // app has seen it, keeps it out of the stream, and otherwise gives way to it (below).
      const c = (result as AckResults['conversation:create']).conversation;
      return { type: 'conversation', conversationId: c.id, seq: c.lastSeq, change: 'created', userIds: c.members, conversation: c };
    }
    case 'conversation:add_members':
    case 'conversation:remove_members': {
      const p = payload as ClientPayload<'conversation:add_members'>;
      return {
        type: 'conversation', conversationId: p.conversationId, seq: (result as AckResults['conversation:add_members']).seq, userIds: p.userIds,
        change: command === 'conversation:add_members' ? 'members_added' : 'members_removed',
      };
    }
    case 'read': {
      // The marker asked for; past the end, the server's copy (other devices, sync) carries the last seq instead.
      const p = payload as ClientPayload<'read'>;
      return { type: 'read', conversationId: p.conversationId, userId, seq: p.seq };
    }
    case 'conversation:notify': {
      const p = payload as ClientPayload<'conversation:notify'>;
      return {
        type: 'notify', conversationId: p.conversationId, seq: (result as AckResults['conversation:notify']).seq, level: p.level,
        ...(p.muteUntil !== undefined && { muteUntil: new Date(p.muteUntil).toISOString() }),
      };
    }
    default:
      return undefined;
  }
}

/**
 * What tells two events at the same (conversation, seq) apart. A no-op command (a reaction
 * added twice, members who are members already) is acked with the conversation's last seq,
 * the seq of some other event: an event made from such an ack must not hide that one.
 */
export function eventSignature(e: ChatEvent): string {
  switch (e.type) {
    case 'message':
      return `message:${e.senderId}:${e.clientMsgId}`;
    case 'message:edited':
    case 'message:deleted':
      return `${e.type}:${e.targetSeq}`;
    case 'reaction':
      return `reaction:${e.targetSeq}:${e.userId}:${e.emoji}:${e.op}`;
    case 'conversation':
      return `conversation:${e.change}:${[...e.userIds].sort().join(',')}`;
    case 'read':
      return `read:${e.userId}`;
    case 'notify':
      return `notify:${e.level}:${e.muteUntil ?? ''}`;
  }
}

/** The key duplicates share: (conversation, seq); a read marker by (conversation, reader, marker). */
export function eventKey(e: ChatEvent): string {
  return e.type === 'read' ? `r:${e.conversationId}:${e.userId}:${e.seq}` : `${e.conversationId}:${e.seq}`;
}
