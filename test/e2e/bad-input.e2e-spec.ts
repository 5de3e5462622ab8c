import { footprint } from '../support/inspect';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

describe('bad input', () => {
  const sys = useSystem('badinput');

  it('answers each bad input with its error code, keeps the socket connected and writes nothing', async () => {
    const alice = await sys().connect('alice');
    await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const ok = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'first', body: 'hello' });
    const id = conversation.id;
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
      ['reply past the end', 'message:send', { conversationId: id, clientMsgId: 'r1', body: 'x', replyToSeq: ok.seq + 1000 }, 'NOT_FOUND'],
      ['unknown event', 'message:sned', { conversationId: id }, 'BAD_REQUEST'],
    ];
    for (const [what, event, payload, code] of cases) {
      const ack = await alice.request(event as 'message:send', payload);
      expect({ what, ack }).toEqual({ what, ack: { ok: false, error: expect.objectContaining({ code, message: expect.any(String) }) } });
      expect(alice.socket.connected).toBe(true);
    }

    // Still serving, and nothing above wrote anything.
    const history = await alice.ok('history', { conversationId: id });
    expect(history.messages.map((m) => m.clientMsgId)).toEqual(['first']);
    expect(await footprint(sys().ns)).toEqual(before);
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
