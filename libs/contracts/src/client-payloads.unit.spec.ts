import { clientPayloads, isClientEventName, MAX_BODY_BYTES, parseClientPayload, type ClientEventName } from './client-payloads.schema';

const valid: Record<ClientEventName, Record<string, unknown>> = {
  'conversation:create': { type: 'group', members: ['bob', 'carol'], title: 'Team' },
  'conversation:add_members': { conversationId: 'c1', userIds: ['dave'] },
  'conversation:remove_members': { conversationId: 'c1', userIds: ['dave'] },
  'conversation:list': { limit: 10, before: 'cursor' },
  'message:send': { conversationId: 'c1', clientMsgId: 'cm-1', body: 'hello', replyToSeq: 3, threadRootSeq: 2, mentions: ['bob'] },
  'message:edit': { conversationId: 'c1', seq: 4, body: 'hello again' },
  'message:delete': { conversationId: 'c1', seq: 4 },
  'reaction:add': { conversationId: 'c1', seq: 4, emoji: '👍🏽' },
  'reaction:remove': { conversationId: 'c1', seq: 4, emoji: ':tada:' },
  typing: { conversationId: 'c1', state: 'start' },
  'presence:subscribe': { userIds: ['bob', 'carol@example.com'] },
  'presence:unsubscribe': { userIds: ['bob'] },
  'push:register': { platform: 'webhook', token: 'https://hooks.example.com/wake' },
  'push:unregister': {},
  sync: { since: 'abc', limit: 100 },
  history: { conversationId: 'c1', beforeSeq: 9, limit: 20 },
  read: { conversationId: 'c1', seq: 0 },
  'conversation:notify': { conversationId: 'c1', level: 'mentions', muteUntil: '2026-12-03T10:00:00.000Z' },
  receipts: { conversationId: 'c1' },
  'conversation:set_role': { conversationId: 'c1', userId: 'bob', role: 'moderator' },
  'conversation:mute_member': { conversationId: 'c1', userId: 'bob', until: '2026-12-03T10:00:00.000Z' },
  'conversation:unmute_member': { conversationId: 'c1', userId: 'bob' },
  'conversation:set_slow_mode': { conversationId: 'c1', seconds: 30 },
  search: { query: '"lunch at" one', conversationId: 'c1', limit: 20, before: 'cursor' },
  'message:report': { conversationId: 'c1', seq: 4, reason: 'spam' },
  'attachment:create': { conversationId: 'c1', name: 'photo of us.png', contentType: 'image/png', size: 1024 },
  'attachment:url': { conversationId: 'c1', attachmentId: '3f0c1f2e-8b4a-4c1d-9e6f-2a7b5c9d0e14' },
};

/** One required field per event, and a value of the wrong type for it. */
const required: Array<[ClientEventName, string, unknown]> = [
  ['conversation:create', 'type', 1],
  ['conversation:create', 'members', 'bob'],
  ['conversation:add_members', 'conversationId', 1],
  ['conversation:add_members', 'userIds', 'dave'],
  ['conversation:remove_members', 'conversationId', null],
  ['conversation:remove_members', 'userIds', {}],
  ['message:send', 'conversationId', 5],
  ['message:send', 'clientMsgId', 5],
  ['message:send', 'body', 5],
  ['history', 'conversationId', true],
  ['read', 'conversationId', []],
  ['read', 'seq', '3'],
  ['conversation:set_role', 'role', 'owner'],
  ['conversation:mute_member', 'userId', 'not a user!'],
  ['conversation:set_slow_mode', 'seconds', 3601],
  ['message:report', 'reason', ''],
  ['attachment:create', 'name', ''],
  ['attachment:create', 'contentType', 'png'],
  ['attachment:create', 'size', -1],
  ['attachment:url', 'attachmentId', '../blocks/x'],
];

/** Optional fields with a value of the wrong type. */
const optional: Array<[ClientEventName, string, unknown]> = [
  ['conversation:create', 'title', 7],
  ['conversation:list', 'limit', '10'],
  ['conversation:list', 'before', 1],
  ['message:send', 'replyToSeq', '3'],
  ['sync', 'since', 1],
  ['sync', 'limit', '10'],
  ['history', 'beforeSeq', '9'],
  ['history', 'limit', '5'],
];

const names = Object.keys(clientPayloads) as ClientEventName[];
const without = (o: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
const failure = (event: ClientEventName, payload: unknown) => {
  const result = parseClientPayload(event, payload);
  if (result.ok) throw new Error(`expected ${event} to refuse ${JSON.stringify(payload)?.slice(0, 80)}`);
  return result;
};
const send = (body: string) => parseClientPayload('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body });

describe('parseClientPayload', () => {
  it('has a valid example for every client event', () => {
    expect(Object.keys(valid).sort()).toEqual([...names].sort());
  });

  it.each(names)('accepts a valid %s payload and returns it', (event) => {
    expect(parseClientPayload(event, valid[event])).toEqual({ ok: true, value: valid[event] });
  });

  it.each(names)('strips unknown keys from a %s payload rather than refusing it', (event) => {
    expect(parseClientPayload(event, { ...valid[event], extra: 'x', nested: { a: 1 } })).toEqual({ ok: true, value: valid[event] });
  });

  it.each(required)('refuses %s without %s with BAD_REQUEST naming the field', (event, field) => {
    const result = failure(event, without(valid[event]!, field));
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each([...required, ...optional])('refuses %s with a wrong-typed %s (%p) with BAD_REQUEST naming the field', (event, field, value) => {
    const result = failure(event, { ...valid[event], [field]: value });
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each(names.filter((n) => n !== 'sync' && n !== 'conversation:list'))('refuses a null, undefined or string %s payload with BAD_REQUEST', (event) => {
    for (const payload of [null, undefined, 'payload', 42]) {
      const result = failure(event, payload);
      expect(result.code).toBe('BAD_REQUEST');
      expect(result.message.startsWith('payload: ')).toBe(true);
    }
  });

  it.each(['sync', 'conversation:list'] as const)('reads an undefined or null %s payload as {}', (event) => {
    expect(parseClientPayload(event, undefined)).toEqual({ ok: true, value: {} });
    expect(parseClientPayload(event, null)).toEqual({ ok: true, value: {} });
    expect(failure(event, 'x').code).toBe('BAD_REQUEST');
  });

  describe('message body size (16 KiB of UTF-8)', () => {
    it('accepts a body of exactly 16384 bytes, ASCII or multi-byte', () => {
      expect(send('a'.repeat(MAX_BODY_BYTES)).ok).toBe(true);
      expect(send('é'.repeat(MAX_BODY_BYTES / 2)).ok).toBe(true);
      expect(send('😀'.repeat(MAX_BODY_BYTES / 4)).ok).toBe(true);
    });

    it.each([
      ['16385 ASCII bytes', 'a'.repeat(MAX_BODY_BYTES + 1)],
      ['8193 two-byte chars (16386 bytes)', 'é'.repeat(MAX_BODY_BYTES / 2 + 1)],
      ['5462 three-byte chars (16386 bytes)', '€'.repeat(5462)],
      ['4097 emoji (16388 bytes in 8194 UTF-16 units)', '😀'.repeat(MAX_BODY_BYTES / 4 + 1)],
      ['ASCII then one multi-byte char past the limit', 'a'.repeat(MAX_BODY_BYTES - 1) + 'é'],
    ])('refuses a body of %s with PAYLOAD_TOO_LARGE', (_, body) => {
      expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES + 1);
      const result = failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body });
      expect(result.code).toBe('PAYLOAD_TOO_LARGE');
      expect(result.message.startsWith('body: ')).toBe(true);
    });

    it('takes an empty body with attachments, and refuses more than 10 attachments or one listed twice', () => {
      const id = (i: number) => `3f0c1f2e-8b4a-4c1d-9e6f-2a7b5c9d0e${String(i).padStart(2, '0')}`;
      expect(parseClientPayload('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: '', attachments: [id(1)] }).ok).toBe(true);
      expect(failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: '', attachments: [] }).code).toBe('BAD_REQUEST');
      expect(failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: 'x', attachments: Array.from({ length: 11 }, (_, i) => id(i)) }).code).toBe('PAYLOAD_TOO_LARGE');
      expect(failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: 'x', attachments: [id(1), id(1)] }).code).toBe('BAD_REQUEST');
      expect(failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: 'x', attachments: ['not-an-id'] }).code).toBe('BAD_REQUEST');
    });

    it('refuses an empty body with BAD_REQUEST', () => {
      expect(failure('message:send', { conversationId: 'c1', clientMsgId: 'cm-1', body: '' }).code).toBe('BAD_REQUEST');
    });
  });

  it.each(['conversation:add_members', 'conversation:remove_members'] as const)('refuses %s with 1001 userIds with PAYLOAD_TOO_LARGE and accepts 1000', (event) => {
    const userIds = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    expect(failure(event, { conversationId: 'c1', userIds: userIds(1001) })).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(parseClientPayload(event, { conversationId: 'c1', userIds: userIds(1000) }).ok).toBe(true);
    expect(failure(event, { conversationId: 'c1', userIds: [] }).code).toBe('BAD_REQUEST');
  });

  it.each(['a.b', 'a*', '>', 'a b', 'a:b', '', 'x'.repeat(65)])('refuses the conversation id %p with BAD_REQUEST', (conversationId) => {
    for (const event of ['message:send', 'read', 'history', 'conversation:add_members'] as const) {
      const result = failure(event, { ...valid[event], conversationId });
      expect(result).toMatchObject({ code: 'BAD_REQUEST' });
      expect(result.message.startsWith('conversationId: ')).toBe(true);
    }
  });

  it.each(['b b', 'b*', 'b>', '', 'u'.repeat(65)])('refuses the user id %p with BAD_REQUEST', (userId) => {
    const result = failure('conversation:create', { type: 'group', members: ['bob', userId] });
    expect(result).toMatchObject({ code: 'BAD_REQUEST' });
    expect(result.message.startsWith('members.1: ')).toBe(true);
  });

  it('refuses an unknown conversation type with BAD_REQUEST', () => {
    expect(failure('conversation:create', { type: 'channel', members: ['bob'] })).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.each([
    ['conversation:list', 0], ['conversation:list', -1], ['conversation:list', 1.5], ['conversation:list', 201],
    ['sync', 0], ['sync', -5], ['sync', 2.5], ['sync', 1001],
    ['history', 0], ['history', -1], ['history', 0.5], ['history', 201],
  ] as const)('refuses a %s limit of %p with BAD_REQUEST', (event, limit) => {
    const result = failure(event, { ...valid[event], limit });
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith('limit: ')).toBe(true);
  });

  it.each([['conversation:list', 200], ['sync', 1000], ['history', 200]] as const)('accepts a %s limit at its maximum %p', (event, limit) => {
    expect(parseClientPayload(event, { ...valid[event], limit }).ok).toBe(true);
  });

  it.each([
    ['a newline', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['NEL (U+0085, a C1 control)', 'a\u0085b'],
    ['U+0080', '\u0080'],
    ['U+009F', 'x\u009f'],
    ['nothing', ''],
    ['65 chars', 'x'.repeat(65)],
  ])('refuses a clientMsgId with %s with BAD_REQUEST', (_, clientMsgId) => {
    const result = failure('message:send', { ...valid['message:send'], clientMsgId });
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith('clientMsgId: ')).toBe(true);
  });

  it.each(['a\u0085', '\u0009', 'a b', '\u00a0', '\u009f'])('refuses the emoji %j (whitespace or a control character) with BAD_REQUEST', (emoji) => {
    const result = failure('reaction:add', { ...valid['reaction:add'], emoji });
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith('emoji: ')).toBe(true);
  });

  it.each(['__proto__', 'constructor', 'toString', '👍🏽', '🇫🇷', ':tada:'])('accepts the emoji %j', (emoji) => {
    expect(parseClientPayload('reaction:add', { ...valid['reaction:add'], emoji }).ok).toBe(true);
  });

  // Postgres stores neither: one such string in the log would stop a projector partition.
  it.each([
    ['message:send', 'body', 'a\u0000b'], ['message:send', 'body', 'a\ud800b'], ['message:edit', 'body', '\udc00'],
    ['conversation:create', 'title', 't\u0000'], ['reaction:add', 'emoji', '\ud83d'], ['push:register', 'token', 'x\u0000'],
    ['sync', 'since', '\u0000'], ['conversation:list', 'before', '\udfff'],
  ] as const)('refuses %s with U+0000 or an unpaired surrogate in %s with BAD_REQUEST', (event, field, value) => {
    const result = failure(event, { ...valid[event], [field]: value });
    expect(result.code).toBe('BAD_REQUEST');
    expect(result.message.startsWith(`${field}: `)).toBe(true);
  });

  it('accepts emoji made of surrogate pairs in a body', () => {
    expect(parseClientPayload('message:send', { ...valid['message:send'], body: '😀👍🏽' }).ok).toBe(true);
  });

  it.each([
    ['read', 'seq', -1], ['read', 'seq', 1.5],
    ['message:send', 'replyToSeq', 0], ['history', 'beforeSeq', 0],
  ] as const)('refuses %s with %s %p with BAD_REQUEST', (event, field, value) => {
    expect(failure(event, { ...valid[event], [field]: value })).toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('isClientEventName', () => {
  it.each(names)('knows %s', (name) => {
    expect(isClientEventName(name)).toBe(true);
  });

  it.each(['message', 'conversation', 'toString', '__proto__', 'constructor', 'hasOwnProperty', '', 'SYNC'])('does not know %p', (name) => {
    expect(isClientEventName(name)).toBe(false);
  });
});
