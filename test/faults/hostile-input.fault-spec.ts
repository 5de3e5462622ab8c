import { io } from 'socket.io-client';
import { tokenFor, type TestClient } from '../support/clients';
import { appendRaw, caughtUp, query } from '../support/inspect';
import { rawHttp, rawSocket, underAttack } from '../support/hostile';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** Engine.IO's limit (docs/protocol.md): 256 KiB per packet. */
const MAX_PACKET = 256 * 1024;
const nested = (levels: number, inner = '0') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('hostile input against a running gateway', () => {
  const sys = useSystem('hostile', { CHAT_HTTP_HEADERS_TIMEOUT: '2s' });
  let bystanders: { alice: TestClient; bob: TestClient; conversationId: string };
  const attack = <T>(run: () => Promise<T>) => underAttack(sys(), bystanders, run);

  beforeAll(async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    bystanders = { alice, bob, conversationId: conversation.id };
  });

  it('closes a websocket that sends a packet over maxHttpBufferSize, before or after authenticating', async () => {
    await attack(async () => {
      for (let i = 0; i < 10; i++) {
        const raw = await rawSocket(sys().app.url, i % 2 ? await tokenFor(`big${i}`) : undefined);
        raw.send(`42["message:send",{"conversationId":"x","clientMsgId":"x","body":"${'x'.repeat(4 * 1024 * 1024)}"}]`);
        // 1009: message too big (RFC 6455).
        expect(await waitFor('the close', () => raw.closed(), 10_000)).toBe(1009);
      }
    });
  });

  it('answers an HTTP long-polling body over maxHttpBufferSize with 413 and ends that session', async () => {
    await attack(async () => {
      const base = `${sys().app.url}/socket.io/?EIO=4&transport=polling`;
      const open = await (await fetch(base)).text();
      const { sid } = JSON.parse(open.slice(1)) as { sid: string };
      const post = (body: string) => fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
      expect((await post(`40${JSON.stringify({ token: await tokenFor('poller') })}`)).status).toBe(200);
      const big = await post(`42["sync",{"since":"${'x'.repeat(MAX_PACKET + 1024)}"}]`);
      expect(big.status).toBe(413);
      // The session is gone: its next poll is refused by Engine.IO.
      expect((await fetch(`${base}&sid=${sid}`)).status).toBe(400);
    });
  });

  it('answers a packet with binary attachments BAD_REQUEST, and closes one that announces too many', async () => {
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('binary'));
      // Ten attachments (Socket.IO's limit) of 200 KiB each: a bad payload like any other,
      // even in a field no schema reads (it used to be dropped, and the query answered NOT_FOUND).
      const placeholders = Array.from({ length: 10 }, (_, num) => ({ _placeholder: true, num }));
      raw.send(`4510-1["history",{"conversationId":"x","parts":${JSON.stringify(placeholders)}}]`);
      for (let i = 0; i < 10; i++) raw.send(Buffer.alloc(200 * 1024, i));
      expect(await raw.ack(1)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
      raw.send(`452-2["message:send",{"_placeholder":true,"num":0}]`);
      raw.send(Buffer.alloc(10));
      raw.send(Buffer.alloc(10));
      expect(await raw.ack(2)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
      expect(raw.closed()).toBeUndefined();
      raw.close();
      // A packet announcing a million attachments is a protocol violation: the connection closes at once.
      const greedy = await rawSocket(sys().app.url, await tokenFor('binary2'));
      greedy.send('451000000-3["history",{}]');
      await waitFor('the greedy socket to be closed', () => greedy.closed(), 10_000);
    });
  });

  it.each([
    ['an event name that is an object', '42[{"toString":"foo"}]'],
    ['a packet that is an object', '42{"toString":"foo"}'],
    ['a packet that is a string', '42"message:send"'],
    ['an empty event', '42[]'],
    ['a reserved event name', '42["disconnect",{}]'],
    ['an unknown Socket.IO packet type', '49["sync",{}]'],
    ['garbage', '4\u0000\u0001garbage'],
    ['truncated JSON', '421["sync",{"since":'],
  ])('closes the connection that sends %s, and stays up', async (_what, packet) => {
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('rawbad'));
      raw.send(packet);
      await waitFor('the server to close the connection', () => raw.closed(), 10_000);
    });
  });

  it('answers events named after Object.prototype members or by a number, or carrying __proto__, like any bad event', async () => {
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('proto'));
      const packets = [
        '["__proto__",{}]', '["constructor",{}]', '["hasOwnProperty",{}]', '["toString",{}]', '[1,{}]',
        // Fields hidden behind __proto__ or constructor.prototype are not fields of the payload.
        `["message:send",{"__proto__":{"conversationId":"${bystanders.conversationId}","clientMsgId":"p1","body":"b"}}]`,
        `["message:send",{"constructor":{"prototype":{"conversationId":"${bystanders.conversationId}","clientMsgId":"p2","body":"b"}}}]`,
        '["sync",{"__proto__":{"since":"garbage"}}]',
      ];
      packets.forEach((p, i) => raw.send(`42${i + 1}${p}`));
      const acks = await Promise.all(packets.map((_, i) => raw.ack(i + 1)));
      expect(acks.slice(0, 7)).toEqual(Array(7).fill({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }));
      // The cursor behind __proto__ was ignored: a snapshot.
      expect(acks[7]).toEqual(expect.objectContaining({ ok: true, events: [] }));
      // Events without an ack id get no answer, write nothing and keep the socket open.
      raw.send('42["message:send",{"conversationId":"*"}]');
      raw.send('42["nonsense",1,2,3]');
      raw.send('429["sync",{}]');
      await raw.ack(9);
      expect(raw.closed()).toBeUndefined();
      raw.close();
    });
  });

  it('answers 100,000 levels of nested JSON in any place of a payload, or closes the connection, and stays up', async () => {
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('deep'));
      raw.send(`421["message:send",${nested(100_000)}]`);
      raw.send(`422["history",{"conversationId":"nope","extra":${nested(100_000)}}]`);
      raw.send(`423["sync",{"since":${nested(100_000, '"x"')}}]`);
      raw.send(`424["conversation:list",${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}]`);
      expect(await raw.ack(1)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
      expect(await raw.ack(2)).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
      expect(await raw.ack(3)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
      expect(await raw.ack(4)).toEqual(expect.objectContaining({ ok: true }));
      // With a binary attachment at the bottom, Socket.IO's own reconstruction recurses: it
      // may refuse the packet (closing the connection) but never takes the process down.
      raw.send(`451-5["history",${nested(60_000, '{"_placeholder":true,"num":0}')}]`);
      raw.send(Buffer.from('x'));
      await waitFor('an answer or a close', () => raw.closed() ?? raw.received.find((m) => m.startsWith('435[')), 10_000);
      raw.close();
    });
  });

  it('closes a websocket that sends invalid UTF-8, and treats it as replacement characters over polling', async () => {
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('utf8'));
      // A text frame that is not UTF-8: 1007 (RFC 6455), checked by ws before any parsing.
      raw.ws.send(Buffer.concat([Buffer.from('421["sync",{"since":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('"}]')]), { binary: false });
      expect(await waitFor('the close', () => raw.closed(), 10_000)).toBe(1007);

      const base = `${sys().app.url}/socket.io/?EIO=4&transport=polling`;
      const { sid } = JSON.parse((await (await fetch(base)).text()).slice(1)) as { sid: string };
      const post = (body: Buffer | string) => fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
      expect((await post(`40${JSON.stringify({ token: await tokenFor('utf8poll') })}`)).status).toBe(200);
      await fetch(`${base}&sid=${sid}`); // the connect packet
      expect((await post(Buffer.concat([Buffer.from('421["sync",{"since":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]')]))).status).toBe(200);
      const answer = await (await fetch(`${base}&sid=${sid}`)).text();
      expect(answer).toMatch(/^431\[\{"ok":false,"error":\{"code":"BAD_REQUEST"/);
    });
  });

  it('answers thousands of request headers, or one huge one, with 431, and cuts off a client that trickles them', async () => {
    // Node counts the bytes of header names and values against the 16 KiB (MAX_HEADER_BYTES).
    await attack(async () => {
      const path = '/socket.io/?EIO=4&transport=polling';
      const many = `GET ${path} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5_000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
      expect(await rawHttp(sys().app.url, many)).toMatch(/^HTTP\/1\.1 431 /);
      const huge = `GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(64 * 1024)}\r\n\r\n`;
      expect(await rawHttp(sys().app.url, huge)).toMatch(/^HTTP\/1\.1 431 /);
      // The same for a websocket upgrade.
      const upgrade = `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\n${Array.from({ length: 5_000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
      expect(await rawHttp(sys().app.url, upgrade)).toMatch(/^HTTP\/1\.1 431 /);
      // Slowloris: one header byte every 100 ms never completes; CHAT_HTTP_HEADERS_TIMEOUT (2 s here) ends it.
      const cut = await rawHttp(sys().app.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n`, { trickle: () => 'X', timeoutMs: 15_000 });
      expect(cut).toMatch(/^HTTP\/1\.1 408 /);
    });
    // Up to 200 small headers is an ordinary request.
    const headers = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-h${i}`, 'v']));
    expect((await fetch(`${sys().app.url}/healthz`, { headers })).status).toBe(200);
  });

  it('limits a socket sending 10,000 events at once (known, unknown, without acks) and serves the others meanwhile', async () => {
    const flooder = await sys().connect('flooder');
    type Answer = { ok: boolean; error?: { code: string; retryAfterMs?: number } };
    const started = Date.now();
    const { known, unknown } = await attack(async () => {
      const known: Array<Promise<Answer>> = [];
      const unknown: Array<Promise<Answer>> = [];
      for (let i = 0; i < 10_000; i++) {
        switch (i % 4) {
          case 0: known.push(flooder.request('sync', { limit: 1 }, 60_000)); break;
          case 1: unknown.push(flooder.socket.timeout(60_000).emitWithAck('no:such:event', { i })); break;
          case 2: flooder.socket.emit('typing', { conversationId: bystanders.conversationId, state: 'start' }); break;
          default: known.push(flooder.request('history', { conversationId: '*' }, 60_000));
        }
      }
      return { known: await Promise.all(known), unknown: await Promise.all(unknown) };
    });
    const seconds = (Date.now() - started) / 1000;
    const all = [...known, ...unknown];
    const limited = all.filter((a) => !a.ok && a.error!.code === 'RATE_LIMITED');
    expect(limited.every((a) => a.error!.retryAfterMs! > 0)).toBe(true);
    expect(all.every((a) => a.ok || ['RATE_LIMITED', 'BAD_REQUEST'].includes(a.error!.code))).toBe(true);
    // The budget (CHAT_EVENT_BURST 300, then CHAT_EVENT_RATE 100/s) holds however long the
    // flood took to be read, and unknown events spend it too.
    expect(all.length - limited.length).toBeLessThanOrEqual(300 + Math.ceil(100 * seconds));
    expect(unknown.filter((a) => !a.ok && a.error!.code === 'RATE_LIMITED').length).toBeGreaterThan(0);
    expect(flooder.socket.connected).toBe(true);
  });

  it('closes a socket that floods events without reading their acks, instead of queueing them', async () => {
    const node = async () =>
      (await (await fetch(`${sys().app.url}/v1/admin/node`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { connections: number };
    await attack(async () => {
      const raw = await rawSocket(sys().app.url, await tokenFor('deaf'));
      const before = (await node()).connections;
      (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      let id = 0;
      await waitFor('the deaf socket to be dropped', async () => {
        for (let i = 0; i < 20_000; i++) raw.send(`42${id++}["no:such:event"]`);
        return (await node()).connections === before - 1;
      }, 90_000, 0);
      raw.close();
    });
  });

  it('refuses U+0000 and unpaired surrogates, and a log entry carrying them does not stop its partition', async () => {
    const { alice } = bystanders;
    await attack(async () => {
      for (const [event, payload] of [
        ['conversation:create', { type: 'group', members: ['bob'], title: 'a\u0000b' }],
        ['message:send', { conversationId: bystanders.conversationId, clientMsgId: 'nul', body: 'a\u0000b' }],
        ['message:send', { conversationId: bystanders.conversationId, clientMsgId: 'surrogate', body: 'a\ud800b' }],
      ] as const) {
        expect(await alice.request(event, payload)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
      }
    });
    // Written by a hostile or buggy publisher straight into the log: refused by the projector, which moves on.
    const id = bystanders.conversationId;
    const poison = await appendRaw(sys().ns, id, { type: 'MessageSent', v: 1, conversationId: id, at: new Date().toISOString(), senderId: 'alice', clientMsgId: 'poison', body: 'a\u0000b' });
    const after = await alice.ok('message:send', { conversationId: id, clientMsgId: 'after-poison', body: 'still flowing' });
    await caughtUp(sys().ns);
    expect((await alice.ok('history', { conversationId: id })).messages.map((m) => m.clientMsgId)).toEqual(['after-poison']);
    expect(after.seq).toBeGreaterThan(poison);
    expect(await query(sys().ns, 'SELECT seq::int FROM rejected_events WHERE conversation_id = $1', [id])).toEqual([{ seq: poison }]);
  });

  it('still answers the well-behaved clients afterwards', async () => {
    const late = io(sys().app.url, { auth: { token: await tokenFor('late') }, transports: ['polling'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      late.once('connect', () => resolve());
      late.once('connect_error', reject);
    });
    expect(await late.timeout(5_000).emitWithAck('sync', {})).toEqual(expect.objectContaining({ ok: true }));
    late.disconnect();
    expect(await bystanders.alice.ok('history', { conversationId: bystanders.conversationId })).toEqual(expect.objectContaining({ ok: true }));
  });
});
