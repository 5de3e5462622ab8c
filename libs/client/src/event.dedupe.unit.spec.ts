import type { ChatEvent, Message, Reaction } from '@chat/contracts';
import { EventDedupe } from './event.dedupe';
import { ownEvent } from './own.events';

const message = (seq: number, clientMsgId = `c${seq}`, senderId = 'bob'): Message => ({
  type: 'message', conversationId: 'g_1', seq, senderId, clientMsgId, body: 'hi', sentAt: '2025-01-01T00:00:00.000Z',
});
const reaction = (seq: number, op: 'add' | 'remove' = 'add'): Reaction => ({
  type: 'reaction', conversationId: 'g_1', seq, targetSeq: 1, userId: 'alice', emoji: '👍', op,
});

describe('EventDedupe', () => {
  it('lets a live or synced event through once by (conversation, seq)', () => {
    const d = new EventDedupe();
    expect(d.fromServer(message(1))).toBe(true);
    expect(d.fromServer(message(1))).toBe(false);
    expect(d.fromServer({ ...message(1), conversationId: 'g_2' })).toBe(true);
  });

  it('drops the server copy of an event already made from the ack, and the ack of one already received', () => {
    const d = new EventDedupe();
    expect(d.fromAck(message(2, 'mine', 'alice'))).toBe(true);
    expect(d.fromServer(message(2, 'mine', 'alice'))).toBe(false);
    expect(d.fromServer(message(3, 'again', 'alice'))).toBe(true);
    expect(d.fromAck(message(3, 'again', 'alice'))).toBe(false);
  });

  it('still delivers the event whose seq a no-op ack named (a reaction added twice is acked with the last seq)', () => {
    const d = new EventDedupe();
    expect(d.fromAck(reaction(7))).toBe(true); // really the seq of bob's message, not yet received
    expect(d.fromServer(message(7))).toBe(true);
    expect(d.fromServer(message(7))).toBe(false);
    expect(d.fromAck(reaction(7))).toBe(false);
  });

  it('keys read markers by reader and marker', () => {
    const d = new EventDedupe();
    const read = (userId: string, seq: number): ChatEvent => ({ type: 'read', conversationId: 'g_1', userId, seq });
    expect(d.fromServer(message(5))).toBe(true);
    expect(d.fromServer(read('bob', 5))).toBe(true);
    expect(d.fromServer(read('carol', 5))).toBe(true);
    expect(d.fromAck(read('bob', 5))).toBe(false);
  });

  it('forgets the oldest keys past its bound', () => {
    const d = new EventDedupe(2);
    for (const seq of [1, 2, 3]) d.fromServer(message(seq));
    expect(d.fromServer(message(3))).toBe(false);
    expect(d.fromServer(message(1))).toBe(true);
  });
});

describe('ownEvent', () => {
  const now = () => '2025-02-03T04:05:06.000Z';
  it('makes from each command and its ack the event the other connections receive', () => {
    expect(ownEvent('message:send', { conversationId: 'g_1', clientMsgId: 'x', body: 'hello', replyToSeq: 4 }, { seq: 9, sentAt: 'T' }, 'alice')).toEqual({
      type: 'message', conversationId: 'g_1', seq: 9, senderId: 'alice', clientMsgId: 'x', body: 'hello', sentAt: 'T', replyToSeq: 4,
    });
    expect(ownEvent('message:edit', { conversationId: 'g_1', seq: 9, body: 'new' }, { seq: 10 }, 'alice', now)).toEqual({
      type: 'message:edited', conversationId: 'g_1', seq: 10, targetSeq: 9, body: 'new', editedAt: now(),
    });
    expect(ownEvent('message:delete', { conversationId: 'g_1', seq: 9 }, { seq: 11 }, 'alice')).toEqual({ type: 'message:deleted', conversationId: 'g_1', seq: 11, targetSeq: 9 });
    expect(ownEvent('reaction:remove', { conversationId: 'g_1', seq: 9, emoji: '🎉' }, { seq: 12 }, 'alice')).toEqual({
      type: 'reaction', conversationId: 'g_1', seq: 12, targetSeq: 9, userId: 'alice', emoji: '🎉', op: 'remove',
    });
    expect(ownEvent('conversation:remove_members', { conversationId: 'g_1', userIds: ['alice'] }, { seq: 13 }, 'alice')).toEqual({
      type: 'conversation', conversationId: 'g_1', seq: 13, change: 'members_removed', userIds: ['alice'],
    });
    expect(ownEvent('read', { conversationId: 'g_1', seq: 12 }, {}, 'alice')).toEqual({ type: 'read', conversationId: 'g_1', userId: 'alice', seq: 12 });
  });

  it('carries a reply\'s root and its mentions (each once, none when empty), as the server stores them', () => {
    expect(ownEvent('message:send', { conversationId: 'g_1', clientMsgId: 'r', body: '@bob @bob', threadRootSeq: 4, mentions: ['bob', 'bob'] }, { seq: 9, sentAt: 'T' }, 'alice')).toEqual({
      type: 'message', conversationId: 'g_1', seq: 9, senderId: 'alice', clientMsgId: 'r', body: '@bob @bob', sentAt: 'T', threadRootSeq: 4, mentions: ['bob'],
    });
    expect(ownEvent('message:send', { conversationId: 'g_1', clientMsgId: 'r', body: 'x', mentions: [] }, { seq: 9, sentAt: 'T' }, 'alice')).not.toHaveProperty('mentions');
  });

  it("makes a notify event of a setting at its ack's seq, with muteUntil as the server writes it", () => {
    expect(ownEvent('conversation:notify', { conversationId: 'g_1', level: 'mentions' }, { seq: 14 }, 'alice')).toEqual({ type: 'notify', conversationId: 'g_1', seq: 14, level: 'mentions' });
    expect(ownEvent('conversation:notify', { conversationId: 'g_1', level: 'all', muteUntil: '2030-01-01T10:00:00+01:00' }, { seq: 15 }, 'alice')).toEqual({
      type: 'notify', conversationId: 'g_1', seq: 15, level: 'all', muteUntil: '2030-01-01T09:00:00.000Z',
    });
  });

  it("makes the creation event from a create's answer", () => {
    const conversation = { id: 'g_1', type: 'group' as const, members: ['alice', 'bob'], createdBy: 'alice', createdAt: 'T', lastSeq: 3 };
    expect(ownEvent('conversation:create', { type: 'group', members: ['bob'] }, { conversation }, 'alice')).toEqual({
      type: 'conversation', conversationId: 'g_1', seq: 3, change: 'created', userIds: ['alice', 'bob'], conversation,
    });
  });

  it('makes nothing of queries', () => {
    expect(ownEvent('history', { conversationId: 'g_1' }, { messages: [], hasMore: false }, 'alice')).toBeUndefined();
    expect(ownEvent('typing', { conversationId: 'g_1', state: 'start' }, {}, 'alice')).toBeUndefined();
    expect(ownEvent('receipts', { conversationId: 'g_1' }, { members: [] }, 'alice')).toBeUndefined();
  });
});
