import { caughtUp, footprint } from '../support/inspect';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

jest.setTimeout(90_000);

describe('bad input', () => {
  const sys = useSystem('badinput');

  it('answers each bad input with its error code, keeps the socket connected and writes nothing', async () => {
    const alice = await sys().connect('alice');
    await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const ok = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'first', body: 'hello' });
    const id = conversation.id;
    // The send is acked once it is in the log; its rows come with the projection.
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);

    const cases: Array<[string, string, unknown, string]> = [
      ['missing field', 'message:send', { conversationId: id, body: 'no client id' }, 'BAD_REQUEST'],
      ['wrong type', 'message:send', { conversationId: id, clientMsgId: 42, body: 'x' }, 'BAD_REQUEST'],
      ['null payload', 'message:send', null, 'BAD_REQUEST'],
      ['string payload', 'message:send', 'send this', 'BAD_REQUEST'],
      ['array payload', 'conversation:create', ['direct', 'bob'], 'BAD_REQUEST'],
      ['20 KiB body', 'message:send', { conversationId: id, clientMsgId: 'big', body: 'x'.repeat(20 * 1024) }, 'PAYLOAD_TOO_LARGE'],
      ['multi-byte body over 16 KiB', 'message:send', { conversationId: id, clientMsgId: 'big2', body: 'é'.repeat(9000) }, 'PAYLOAD_TOO_LARGE'],
      ['wildcard conversation id *', 'message:send', { conversationId: '*', clientMsgId: 'w1', body: 'x' }, 'BAD_REQUEST'],
      ['wildcard conversation id >', 'history', { conversationId: '>' }, 'BAD_REQUEST'],
      ['subject-splitting conversation id', 'message:send', { conversationId: `${id}.x`, clientMsgId: 'w2', body: 'x' }, 'BAD_REQUEST'],
      ['unknown conversation type', 'conversation:create', { type: 'channel', members: ['bob'] }, 'BAD_REQUEST'],
      ['direct with two others', 'conversation:create', { type: 'direct', members: ['bob', 'carol'] }, 'BAD_REQUEST'],
      ['negative limit', 'history', { conversationId: id, limit: -1 }, 'BAD_REQUEST'],
      ['limit over the maximum', 'history', { conversationId: id, limit: 201 }, 'BAD_REQUEST'],
      ['fractional limit', 'sync', { limit: 1.5 }, 'BAD_REQUEST'],
      ['garbage cursor', 'sync', { since: 'not-a-cursor' }, 'BAD_REQUEST'],
      ['cursor of another shape', 'sync', { since: Buffer.from('{"v":9}').toString('base64url') }, 'BAD_REQUEST'],
      ['garbage list cursor', 'conversation:list', { before: 'zzz' }, 'BAD_REQUEST'],
      ['too many members in one call', 'conversation:add_members', { conversationId: id, userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'PAYLOAD_TOO_LARGE'],
      ['bad user id', 'conversation:add_members', { conversationId: id, userIds: ['has space'] }, 'BAD_REQUEST'],
      ['control character in clientMsgId', 'message:send', { conversationId: id, clientMsgId: 'a\r\nb', body: 'x' }, 'BAD_REQUEST'],
      // Unicode's C1 controls are control characters too (NEL, U+0085, is not even \s to JavaScript).
      ['U+0085 in clientMsgId', 'message:send', { conversationId: id, clientMsgId: 'a\u0085b', body: 'x' }, 'BAD_REQUEST'],
      ['U+009F in clientMsgId', 'message:send', { conversationId: id, clientMsgId: '\u009f', body: 'x' }, 'BAD_REQUEST'],
      ['U+0085 in an emoji', 'reaction:add', { conversationId: id, seq: ok.seq, emoji: ':a\u0085:' }, 'BAD_REQUEST'],
      // Timestamps JavaScript reads and Postgres does not: the cursor is refused, never handed to Postgres.
      ['list cursor with a bare number as time', 'conversation:list', { before: b64(['1', id]) }, 'BAD_REQUEST'],
      ['list cursor with a weekday as time', 'conversation:list', { before: b64(['Tue, 1 Jan 2030', id]) }, 'BAD_REQUEST'],
      ['list cursor with a six-digit year', 'conversation:list', { before: b64(['+275760-09-13T00:00:00.000Z', id]) }, 'BAD_REQUEST'],
      ['list cursor with no time zone', 'conversation:list', { before: b64(['2030-01-01 10:00', id]) }, 'BAD_REQUEST'],
      ['list cursor before 1970', 'conversation:list', { before: b64(['1969-12-31T23:59:59.999Z', id]) }, 'BAD_REQUEST'],
      ['list cursor with U+0000 in its id', 'conversation:list', { before: b64(['2030-01-01T00:00:00.000Z', 'g\u0000']) }, 'BAD_REQUEST'],
      ['list cursor with a number as id', 'conversation:list', { before: b64(['2030-01-01T00:00:00.000Z', 7]) }, 'BAD_REQUEST'],
      ['reply past the end', 'message:send', { conversationId: id, clientMsgId: 'r1', body: 'x', replyToSeq: ok.seq + 1000 }, 'NOT_FOUND'],
      ['unknown event', 'message:sned', { conversationId: id }, 'BAD_REQUEST'],
    ];
    // Every case is tried before any is judged, so a failure lists all the cases that went wrong.
    const wrong: unknown[] = [];
    for (const [what, event, payload, code] of cases) {
      const ack = await alice.request(event as 'message:send', payload);
      if (ack.ok || ack.error.code !== code || typeof ack.error.message !== 'string' || !alice.socket.connected) wrong.push({ what, expected: code, ack });
    }
    expect(wrong).toEqual([]);

    // Still serving, and nothing above wrote anything.
    const history = await alice.ok('history', { conversationId: id });
    expect(history.messages.map((m) => m.clientMsgId)).toEqual(['first']);
    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(before);
  });

  it('refuses binary data anywhere in a packet, unknown fields included, and writes nothing', async () => {
    const dana = await sys().connect('dana');
    const { conversation } = await dana.ok('conversation:create', { type: 'group', members: ['bob'] });
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);
    const blob = Buffer.from('binary');
    const packets: Array<[string, unknown[]]> = [
      // socket.io-client sends each of these as a packet with binary attachments.
      ['message:send', [{ conversationId: conversation.id, clientMsgId: 'b1', body: 'x', attachment: blob }]],
      ['message:send', [{ conversationId: conversation.id, clientMsgId: 'b2', body: 'x', deep: { list: [1, [2, { b: new Uint8Array([1]) }]] } }]],
      ['message:send', [{ conversationId: conversation.id, clientMsgId: 'b3', body: 'x' }, blob]],
      ['conversation:create', [{ type: 'group', members: ['bob'], icon: blob }]],
      ['history', [{ conversationId: conversation.id, extra: blob }]],
      ['sync', [{ extra: [blob] }]],
    ];
    const wrong: unknown[] = [];
    for (const [i, [event, args]] of packets.entries()) {
      const ack = (await dana.socket.timeout(10_000).emitWithAck(event, ...args)) as { ok: boolean; error?: { code: string } };
      if (ack.ok || ack.error?.code !== 'BAD_REQUEST') wrong.push({ packet: i, event, ack });
    }
    expect(wrong).toEqual([]);
    expect(dana.socket.connected).toBe(true);
    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(before);
    expect((await dana.ok('history', { conversationId: conversation.id })).messages).toEqual([]);
  });

  it('takes reactions named like Object.prototype members as plain emoji', async () => {
    const erin = await sys().connect('erin');
    const { conversation } = await erin.ok('conversation:create', { type: 'group', members: ['bob'] });
    const { seq } = await erin.ok('message:send', { conversationId: conversation.id, clientMsgId: 'proto', body: 'react to me' });
    const emoji = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const e of emoji) await erin.ok('reaction:add', { conversationId: conversation.id, seq, emoji: e });
    const [message] = (await erin.ok('history', { conversationId: conversation.id })).messages;
    expect(Object.keys(message!.reactions ?? {}).sort()).toEqual([...emoji].sort());
    for (const e of emoji) expect(message!.reactions![e]).toEqual(['erin']);
    for (const e of emoji) await erin.ok('reaction:remove', { conversationId: conversation.id, seq, emoji: e });
    expect((await erin.ok('history', { conversationId: conversation.id })).messages[0]!.reactions).toBeUndefined();
  });

  it('answers every malformed admin cursor 400 BAD_REQUEST naming the cursor', async () => {
    const alice = await sys().connect('alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const get = (path: string) => fetch(`${sys().app.url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    const cursors: Array<[string, string]> = [
      ['/v1/admin/users/alice/conversations', b64({ at: 'garbage', id: conversation.id })],
      ['/v1/admin/users/alice/conversations', b64({ at: '1', id: conversation.id })],
      ['/v1/admin/users/alice/conversations', b64({ at: '2030-02-30T00:00:00.000Z', id: conversation.id })],
      ['/v1/admin/users/alice/conversations', b64({ at: '2030-01-01T00:00:00.000Z\u0000', id: conversation.id })],
      ['/v1/admin/users/alice/conversations', b64({ at: '2030-01-01T00:00:00.000Z', id: 'g\u0000' })],
      ['/v1/admin/users/alice/conversations', b64({ at: '2030-01-01T00:00:00.000Z' })],
      [`/v1/admin/conversations/${conversation.id}`, b64('bob\u0000')],
      [`/v1/admin/conversations/${conversation.id}`, b64('has space')],
      [`/v1/admin/conversations/${conversation.id}/messages`, b64(-1)],
      [`/v1/admin/conversations/${conversation.id}/messages`, b64(2 ** 60)],
      ['/v1/admin/users/alice/connections', b64('a\u0000')],
      ['/v1/admin/users/alice/push-decisions', b64('1')],
      ['/v1/admin/users/alice/conversations', '%00'],
      ['/v1/admin/users/alice/conversations', 'not+base64url'],
    ];
    const wrong: unknown[] = [];
    for (const [route, cursor] of cursors) {
      const res = await get(`${route}?cursor=${cursor}`);
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (res.status !== 400 || body.error?.code !== 'BAD_REQUEST' || !/cursor/.test(body.error.message ?? '')) wrong.push({ route, cursor, status: res.status, body });
    }
    expect(wrong).toEqual([]);
    expect((await fetch(`${sys().app.url}/readyz`)).status).toBe(200);
  });

  it('answers events sent without a payload or without an ack callback, and stays up', async () => {
    const alice = await sys().connect('carl');
    alice.socket.emit('message:send');
    alice.socket.emit('message:send', { conversationId: '*' });
    alice.socket.emit('nonsense', 1, 2, 3);
    const noPayload = await alice.socket.timeout(5000).emitWithAck('history');
    expect(noPayload).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
    expect(await alice.ok('sync', undefined)).toEqual(expect.objectContaining({ ok: true, events: [] }));
    expect((await fetch(`${sys().app.url}/healthz`)).status).toBe(200);
  });
});
