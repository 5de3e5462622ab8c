import type { ConversationCommand } from './commands';
import { admit, decide, evolve, MAX_MENTIONS } from './conversation.decider';
import type { ConversationState, MessageRef } from './conversation.state';
import type { ConversationEvent, MessageSent } from './events';
import { addReply, messageRef, THREAD_PARTICIPANTS_MAX, type MessageState } from './message.state';

const AT = '2026-01-01T10:00:00.000Z';
const CID = 'c1';

function group(...members: string[]): ConversationState {
  const created: ConversationEvent = { type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'group', members, createdBy: members[0]!, at: AT };
  let state = evolve(undefined, created, 1);
  // Messages at seqs 2..5: a few roots to reply to.
  for (let seq = 2; seq <= 5; seq++) state = evolve(state, { type: 'MessageSent', v: 1, conversationId: CID, senderId: members[0]!, clientMsgId: `m${seq}`, body: 'x', at: AT }, seq);
  return state;
}

const root: MessageRef = { senderId: 'alice', deleted: false, reactions: {}, inThread: false };
const send = (extra: Partial<Extract<ConversationCommand, { type: 'SendMessage' }>> = {}): ConversationCommand => ({
  type: 'SendMessage', conversationId: CID, senderId: 'bob', clientMsgId: 'r1', body: 'reply', at: AT, ...extra,
});
const codeOf = (d: ReturnType<typeof decide>) => (d.ok ? 'ok' : d.rejection.code);

describe('threads: a reply goes to a message of the conversation that is not itself a reply', () => {
  const state = group('alice', 'bob', 'carol');

  it('accepts a reply to a root, copying threadRootSeq into the event', () => {
    const d = decide(send({ threadRootSeq: 3 }), state, root);
    expect(d.ok && (d.events[0] as MessageSent).threadRootSeq).toBe(3);
  });

  it('refuses a reply to a reply with BAD_REQUEST, at decide and in log order', () => {
    expect(codeOf(decide(send({ threadRootSeq: 3 }), state, { ...root, inThread: true }))).toBe('BAD_REQUEST');
    const event: MessageSent = { type: 'MessageSent', v: 1, conversationId: CID, senderId: 'bob', clientMsgId: 'r', body: 'r', at: AT, threadRootSeq: 3, basis: 5 };
    expect(admit(state, event, { ...root, inThread: true })?.code).toBe('BAD_REQUEST');
  });

  it('refuses a root past the end or that is no message with NOT_FOUND', () => {
    expect(codeOf(decide(send({ threadRootSeq: 99 }), state, undefined))).toBe('NOT_FOUND');
    expect(codeOf(decide(send({ threadRootSeq: 4 }), state, undefined))).toBe('NOT_FOUND');
  });

  it('refuses a new reply to a deleted root, but keeps one that raced the deletion in the log', () => {
    expect(codeOf(decide(send({ threadRootSeq: 3 }), state, { ...root, deleted: true }))).toBe('NOT_FOUND');
    const event: MessageSent = { type: 'MessageSent', v: 1, conversationId: CID, senderId: 'bob', clientMsgId: 'r', body: 'r', at: AT, threadRootSeq: 3, basis: 5 };
    expect(admit(state, event, { ...root, deleted: true })).toBeUndefined();
  });

  it('refuses a stranger before anything about its reply', () => {
    expect(codeOf(decide(send({ senderId: 'mallory', threadRootSeq: 3, mentions: ['nobody'] }), state, { ...root, inThread: true }))).toBe('FORBIDDEN');
  });
});

describe('addReply: the root\'s summary', () => {
  const message = (): MessageState => ({ senderId: 'alice', body: 'root' });

  it('counts replies, keeps the last one and the repliers most recent first, each once', () => {
    const m = message();
    addReply(m, { seq: 10, senderId: 'bob', at: '2026-01-01T10:00:10.000Z' });
    addReply(m, { seq: 11, senderId: 'carol', at: '2026-01-01T10:00:11.000Z' });
    addReply(m, { seq: 12, senderId: 'bob', at: '2026-01-01T10:00:12.000Z' });
    expect(m.thread).toEqual({ replies: 3, lastReplySeq: 12, lastReplyAt: '2026-01-01T10:00:12.000Z', participants: ['bob', 'carol'] });
  });

  it(`names at most ${THREAD_PARTICIPANTS_MAX} participants`, () => {
    const m = message();
    for (let i = 0; i < 15; i++) addReply(m, { seq: 10 + i, senderId: `u${i}`, at: AT });
    expect(m.thread!.participants).toEqual(Array.from({ length: 10 }, (_, i) => `u${14 - i}`));
    expect(m.thread!.replies).toBe(15);
  });

  it('marks a reply as in a thread for the rules', () => {
    expect(messageRef({ senderId: 'bob', body: 'r', threadRootSeq: 3 })!.inThread).toBe(true);
    expect(messageRef(message())!.inThread).toBe(false);
  });
});

describe('mentions: members at the time of the send, at most 50', () => {
  const state = group('alice', 'bob', 'carol');

  it('keeps each mentioned member once', () => {
    const d = decide(send({ mentions: ['carol', 'alice', 'carol'] }), state);
    expect(d.ok && (d.events[0] as MessageSent).mentions).toEqual(['carol', 'alice']);
  });

  it('leaves out an empty list', () => {
    const d = decide(send({ mentions: [] }), state);
    expect(d.ok && 'mentions' in d.events[0]!).toBe(false);
  });

  it('refuses a mention of a non-member with BAD_REQUEST', () => {
    expect(codeOf(decide(send({ mentions: ['carol', 'dave'] }), state))).toBe('BAD_REQUEST');
  });

  it(`refuses more than ${MAX_MENTIONS} distinct users with BAD_REQUEST`, () => {
    const many = Array.from({ length: MAX_MENTIONS + 1 }, (_, i) => `u${i}`);
    const big = group('alice', 'bob', ...many);
    expect(codeOf(decide(send({ mentions: many }), big))).toBe('BAD_REQUEST');
    expect(codeOf(decide(send({ mentions: many.slice(0, MAX_MENTIONS) }), big))).toBe('ok');
  });
});

describe('notification settings: a member\'s own, in the log', () => {
  const state = group('alice', 'bob');
  const notify = (extra: Partial<Extract<ConversationCommand, { type: 'SetNotify' }>> = {}): ConversationCommand => ({
    type: 'SetNotify', conversationId: CID, userId: 'bob', level: 'mentions', at: AT, ...extra,
  });

  it('records the level and the end of a mute', () => {
    const d = decide(notify({ level: 'none', muteUntil: '2026-01-01T11:00:00.000Z' }), state);
    expect(d.ok && d.events).toEqual([{ type: 'NotifySet', v: 1, conversationId: CID, userId: 'bob', level: 'none', muteUntil: '2026-01-01T11:00:00.000Z', at: AT }]);
  });

  it('refuses a mute that ends at or before the command\'s time with BAD_REQUEST', () => {
    expect(codeOf(decide(notify({ muteUntil: AT }), state))).toBe('BAD_REQUEST');
    expect(codeOf(decide(notify({ muteUntil: '2025-12-31T10:00:00.000Z' }), state))).toBe('BAD_REQUEST');
  });

  it('refuses a non-member with FORBIDDEN and an unknown conversation with NOT_FOUND', () => {
    expect(codeOf(decide(notify({ userId: 'mallory' }), state))).toBe('FORBIDDEN');
    expect(codeOf(decide(notify(), undefined))).toBe('NOT_FOUND');
  });

  it('changes nothing of the conversation state: not news to the others', () => {
    const d = decide(notify(), state);
    expect(d.ok && evolve(state, d.events[0]!, 9)).toBe(state);
  });
});
