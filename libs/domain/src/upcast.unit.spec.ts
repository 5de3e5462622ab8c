import { CURRENT_VERSION, upcast } from './upcast';

const AT = '2024-01-01T00:00:00.000Z';
const base = { v: 1, conversationId: 'c_1-A', at: AT };

const wellFormed = {
  ConversationCreated: { ...base, type: 'ConversationCreated', kind: 'group', members: ['alice', 'bob'], createdBy: 'alice', title: 'Team' },
  ConversationCreatedDirect: { ...base, type: 'ConversationCreated', kind: 'direct', members: ['alice', 'bob'], createdBy: 'alice' },
  MembersAdded: { ...base, type: 'MembersAdded', by: 'alice', userIds: ['carol', 'u.x:y@z-1'] },
  MembersRemoved: { ...base, type: 'MembersRemoved', by: 'alice', userIds: ['bob'] },
  MessageSent: { ...base, type: 'MessageSent', senderId: 'alice', clientMsgId: 'cm-1', body: 'hi', replyToSeq: 0 },
  MessageSentNoReply: { ...base, type: 'MessageSent', senderId: 'alice', clientMsgId: 'cm-1', body: '' },
};

/** ReadMarked as first released (v1): the marker was called `seq`. */
const readMarkedV1 = { ...base, type: 'ReadMarked', userId: 'bob', seq: 12 };

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

  const { MessageSent: msg, ConversationCreated: cc, MembersAdded: ma } = wellFormed;
  const rm = readMarkedV1;
  it.each<[string, Record<string, unknown>]>([
    ['an unknown type', { ...msg, type: 'MessagePinned' }],
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
    // Text Postgres cannot store would fail every batch holding it and stop the partition.
    ['U+0000 in a body', { ...msg, body: 'a\u0000b' }],
    ['an unpaired high surrogate in a body', { ...msg, body: 'a\ud800b' }],
    ['an unpaired low surrogate in a title', { ...cc, title: '\udc00' }],
    ['U+0000 in a clientMsgId', { ...msg, clientMsgId: '\u0000' }],
    ['U+0000 in an unknown nested field', { ...msg, extra: { deep: ['ok', 'x\u0000'] } }],
    ['U+0000 in a key', { ...msg, ['k\u0000']: 1 }],
  ])('refuses an event with %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });

  it('accepts text with paired surrogates (emoji) and other control characters', () => {
    expect(upcast({ ...msg, body: '😀 \u0001 \ud83d\ude00' })).toBeDefined();
  });

  it('refuses a 100,000-level nested value without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(upcast({ ...msg, extra: deep })).toBeUndefined();
  });

  it('accepts ids at the edges of their alphabets and lengths', () => {
    expect(upcast({ ...msg, conversationId: 'x'.repeat(64), senderId: 'u'.repeat(64) })).toBeDefined();
    expect(upcast({ ...msg, conversationId: 'A', senderId: 'a.b:c@d_e-f' })).toBeDefined();
  });
});

describe('upcast: ReadMarked v1 -> v2', () => {
  const v2 = { ...base, v: 2, type: 'ReadMarked', userId: 'bob', upToSeq: 12 };

  it('turns v1 {seq} into v2 {upToSeq}, keeping every other field and dropping seq', () => {
    const up = upcast(structuredClone(readMarkedV1));
    expect(up).toEqual(v2);
    expect(up).not.toHaveProperty('seq');
  });

  it('upcasts a v1 marker at 0', () => {
    expect(upcast({ ...readMarkedV1, seq: 0 })).toEqual({ ...v2, upToSeq: 0 });
  });

  it('takes the marker of a v1 event from seq, not from a stray upToSeq', () => {
    expect(upcast({ ...readMarkedV1, seq: 3, upToSeq: 99 })).toEqual({ ...v2, upToSeq: 3 });
  });

  it('does not change the raw v1 event it reads', () => {
    const raw = structuredClone(readMarkedV1);
    upcast(raw);
    expect(raw).toEqual(readMarkedV1);
  });

  it('returns a well-formed v2 as it is', () => {
    expect(upcast(structuredClone(v2))).toEqual(v2);
  });

  it.each<[string, Record<string, unknown>]>([
    ['v1 without seq', without(readMarkedV1, 'seq')],
    ['v1 carrying upToSeq instead of seq', { ...without(readMarkedV1, 'seq'), upToSeq: 12 }],
    ['v2 carrying seq instead of upToSeq', { ...without(v2, 'upToSeq'), seq: 12 }],
    ['v2 without upToSeq', without(v2, 'upToSeq')],
    ['v2 with a negative upToSeq', { ...v2, upToSeq: -1 }],
    ['v2 with a fractional upToSeq', { ...v2, upToSeq: 1.5 }],
    ['v2 with a string upToSeq', { ...v2, upToSeq: '12' }],
    ['v2 with an unsafe upToSeq', { ...v2, upToSeq: 2 ** 53 }],
    ['v2 with a bad reader id', { ...v2, userId: 'b b' }],
    ['v2 with a bad conversation id', { ...v2, conversationId: 'a.b' }],
    ['v1 with a bad conversation id', { ...readMarkedV1, conversationId: 'a.b' }],
    ['v1 with a non-string at', { ...readMarkedV1, at: 1 }],
    ['v3', { ...v2, v: 3 }],
    ['v3 carrying seq', { ...readMarkedV1, v: 3 }],
    ['v0', { ...v2, v: 0 }],
    ['v0 carrying seq', { ...readMarkedV1, v: 0 }],
    ['v "2"', { ...v2, v: '2' }],
    ['v "1"', { ...readMarkedV1, v: '1' }],
    ['no v', without(v2, 'v')],
  ])('refuses ReadMarked %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });
});

describe('upcast: edits, deletes and reactions (v1)', () => {
  const newEvents = {
    MessageEdited: { ...base, type: 'MessageEdited', by: 'alice', targetSeq: 3, body: 'fixed' },
    MessageEditedEmpty: { ...base, type: 'MessageEdited', by: 'alice', targetSeq: 0, body: '' },
    MessageDeleted: { ...base, type: 'MessageDeleted', by: 'alice', targetSeq: 3 },
    ReactionAdded: { ...base, type: 'ReactionAdded', userId: 'bob', targetSeq: 3, emoji: '👍' },
    ReactionAddedName: { ...base, type: 'ReactionAdded', userId: 'u.x:y@z-1', targetSeq: 3, emoji: ':tada:' },
    ReactionRemoved: { ...base, type: 'ReactionRemoved', userId: 'bob', targetSeq: 3, emoji: '👍' },
  };

  it.each(Object.entries(newEvents))('returns a well-formed v1 %s as it is', (_, raw) => {
    expect(upcast(structuredClone(raw))).toEqual(raw);
  });

  const { MessageEdited: ed, MessageDeleted: dl, ReactionAdded: ra, ReactionRemoved: rr } = newEvents;
  const seqCases = (name: string, raw: Record<string, unknown>): Array<[string, Record<string, unknown>]> => [
    [`${name} without targetSeq`, without(raw, 'targetSeq')],
    [`${name} with a negative targetSeq`, { ...raw, targetSeq: -1 }],
    [`${name} with a fractional targetSeq`, { ...raw, targetSeq: 2.5 }],
    [`${name} with a string targetSeq`, { ...raw, targetSeq: '3' }],
    [`${name} with an unsafe targetSeq`, { ...raw, targetSeq: 2 ** 53 }],
    [`${name} v2`, { ...raw, v: 2 }],
    [`${name} v0`, { ...raw, v: 0 }],
    [`${name} without v`, without(raw, 'v')],
    [`${name} with a bad conversation id`, { ...raw, conversationId: 'a*b' }],
    [`${name} with a non-string at`, { ...raw, at: null }],
  ];
  it.each<[string, Record<string, unknown>]>([
    ...seqCases('MessageEdited', ed),
    ['MessageEdited with a bad by', { ...ed, by: 'a b' }],
    ['MessageEdited without by', without(ed, 'by')],
    ['MessageEdited with a non-string body', { ...ed, body: 5 }],
    ['MessageEdited without body', without(ed, 'body')],
    ...seqCases('MessageDeleted', dl),
    ['MessageDeleted with a bad by', { ...dl, by: '' }],
    ['MessageDeleted without by', without(dl, 'by')],
    ...seqCases('ReactionAdded', ra),
    ['ReactionAdded with a bad user id', { ...ra, userId: 'b>b' }],
    ['ReactionAdded without user id', without(ra, 'userId')],
    ['ReactionAdded with an empty emoji', { ...ra, emoji: '' }],
    ['ReactionAdded with a non-string emoji', { ...ra, emoji: 1 }],
    ['ReactionAdded without emoji', without(ra, 'emoji')],
    ...seqCases('ReactionRemoved', rr),
    ['ReactionRemoved with a bad user id', { ...rr, userId: 'b b' }],
    ['ReactionRemoved without user id', without(rr, 'userId')],
    ['ReactionRemoved with an empty emoji', { ...rr, emoji: '' }],
    ['ReactionRemoved with a non-string emoji', { ...rr, emoji: ['👍'] }],
    ['ReactionRemoved without emoji', without(rr, 'emoji')],
  ])('refuses %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });
});

describe('upcast: threads, mentions and notification settings (v1)', () => {
  const reply = { ...base, type: 'MessageSent', senderId: 'bob', clientMsgId: 'r-1', body: 'yes', threadRootSeq: 4, mentions: ['alice', 'u.x:y@z-1'] };
  const notify = { ...base, type: 'NotifySet', userId: 'bob', level: 'mentions', muteUntil: '2024-01-02T00:00:00.000Z' };

  it.each([['a reply with mentions', reply], ['a setting with a mute', notify], ['a setting without one', without(notify, 'muteUntil')]])('returns %s as it is', (_, raw) => {
    expect(upcast(structuredClone(raw))).toEqual(raw);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a reply with a negative threadRootSeq', { ...reply, threadRootSeq: -1 }],
    ['a reply with a string threadRootSeq', { ...reply, threadRootSeq: '4' }],
    ['mentions that are not a list', { ...reply, mentions: 'alice' }],
    ['mentions with a bad user id', { ...reply, mentions: ['a b'] }],
    ['a setting with an unknown level', { ...notify, level: 'loud' }],
    ['a setting without a level', without(notify, 'level')],
    ['a setting with an unparseable muteUntil', { ...notify, muteUntil: 'tomorrow' }],
    ['a setting with a bad user id', { ...notify, userId: '' }],
    ['a setting at v2', { ...notify, v: 2 }],
  ])('refuses %s', (_, raw) => {
    expect(upcast(raw)).toBeUndefined();
  });
});

describe('upcast: versions', () => {
  it('knows the current version of every event type: ReadMarked 2, every other 1', () => {
    expect(CURRENT_VERSION).toEqual({
      ConversationCreated: 1, MembersAdded: 1, MembersRemoved: 1, MessageSent: 1,
      MessageEdited: 1, MessageDeleted: 1, ReactionAdded: 1, ReactionRemoved: 1, ReadMarked: 2, NotifySet: 1,
      RoleSet: 1, MemberMuted: 1, MemberUnmuted: 1, SlowModeSet: 1, MessageReported: 1,
    });
  });

  it.each(Object.entries(wellFormed))('refuses %s at v0 and v2', (_, raw) => {
    expect(upcast({ ...raw, v: 0 })).toBeUndefined();
    expect(upcast({ ...raw, v: 2 })).toBeUndefined();
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('refuses an event whose type is %p', (type) => {
    expect(upcast({ ...wellFormed.MessageSent, type })).toBeUndefined();
  });
});

function without(o: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
}
