import { upcast } from './upcast';

const AT = '2024-01-01T00:00:00.000Z';
const base = { v: 1, conversationId: 'c_1-A', at: AT };

const wellFormed = {
  ConversationCreated: { ...base, type: 'ConversationCreated', kind: 'group', members: ['alice', 'bob'], createdBy: 'alice', title: 'Team' },
  ConversationCreatedDirect: { ...base, type: 'ConversationCreated', kind: 'direct', members: ['alice', 'bob'], createdBy: 'alice' },
  MembersAdded: { ...base, type: 'MembersAdded', by: 'alice', userIds: ['carol', 'u.x:y@z-1'] },
  MembersRemoved: { ...base, type: 'MembersRemoved', by: 'alice', userIds: ['bob'] },
  MessageSent: { ...base, type: 'MessageSent', senderId: 'alice', clientMsgId: 'cm-1', body: 'hi', replyToSeq: 0 },
  MessageSentNoReply: { ...base, type: 'MessageSent', senderId: 'alice', clientMsgId: 'cm-1', body: '' },
  ReadMarked: { ...base, type: 'ReadMarked', userId: 'bob', seq: 12 },
};

describe('upcast', () => {
  it.each(Object.entries(wellFormed))('returns a well-formed v1 %s as it is', (_, raw) => {
    expect(upcast(structuredClone(raw))).toEqual(raw);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', [wellFormed.MessageSent]],
    ['a string', JSON.stringify(wellFormed.MessageSent)],
    ['a number', 1],
  ])('refuses %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });

  const { MessageSent: msg, ConversationCreated: cc, MembersAdded: ma, ReadMarked: rm } = wellFormed;
  it.each<[string, Record<string, unknown>]>([
    ['an unknown type', { ...msg, type: 'MessageEdited' }],
    ['a missing type', { ...msg, type: undefined }],
    ['v 2', { ...msg, v: 2 }],
    ['v "1"', { ...msg, v: '1' }],
    ['no v', { ...msg, v: undefined }],
    ['conversation id a.b', { ...msg, conversationId: 'a.b' }],
    ['conversation id *', { ...msg, conversationId: '*' }],
    ['conversation id >', { ...msg, conversationId: '>' }],
    ['conversation id with a space', { ...msg, conversationId: 'a b' }],
    ['conversation id with a colon', { ...msg, conversationId: 'a:b' }],
    ['an empty conversation id', { ...msg, conversationId: '' }],
    ['a 65-char conversation id', { ...msg, conversationId: 'x'.repeat(65) }],
    ['a numeric conversation id', { ...msg, conversationId: 7 }],
    ['a non-string at', { ...msg, at: 0 }],
    ['a sender id with a space', { ...msg, senderId: 'a b' }],
    ['an empty sender id', { ...msg, senderId: '' }],
    ['a 65-char sender id', { ...msg, senderId: 'u'.repeat(65) }],
    ['a non-string clientMsgId', { ...msg, clientMsgId: 1 }],
    ['a non-string body', { ...msg, body: null }],
    ['a negative replyToSeq', { ...msg, replyToSeq: -1 }],
    ['a fractional replyToSeq', { ...msg, replyToSeq: 1.5 }],
    ['a string replyToSeq', { ...msg, replyToSeq: '3' }],
    ['an unknown kind', { ...cc, kind: 'channel' }],
    ['members not an array', { ...cc, members: 'alice' }],
    ['a bad member id', { ...cc, members: ['alice', 'b*b'] }],
    ['a non-string member', { ...cc, members: ['alice', 2] }],
    ['a bad createdBy', { ...cc, createdBy: 'a/b' }],
    ['a non-string title', { ...cc, title: 5 }],
    ['a bad by', { ...ma, by: '' }],
    ['userIds not an array', { ...ma, userIds: 'carol' }],
    ['a bad user in userIds', { ...ma, userIds: ['carol', 'd e'] }],
    ['a bad reader id', { ...rm, userId: 'b>b' }],
    ['a negative read seq', { ...rm, seq: -1 }],
    ['a fractional read seq', { ...rm, seq: 2.5 }],
    ['a string read seq', { ...rm, seq: '12' }],
    ['an unsafe read seq', { ...rm, seq: 2 ** 53 }],
  ])('refuses an event with %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });

  it('accepts ids at the edges of their alphabets and lengths', () => {
    expect(upcast({ ...msg, conversationId: 'x'.repeat(64), senderId: 'u'.repeat(64) })).toBeDefined();
    expect(upcast({ ...msg, conversationId: 'A', senderId: 'a.b:c@d_e-f' })).toBeDefined();
  });
});
