import { decodeJwt } from 'jose';
import type { ChatEvent, ConversationInfo, Message } from '@chat/contracts';
import { startApp } from '../support/app-process';
import { connectClient, tokenFor, waitForEvents, type TestClient } from '../support/clients';
import { caughtUp, footprint } from '../support/inspect';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = { status: number; body: any; retryAfter: string | null };

/** One send budget per senderId: 20 saved up, one more a second (a connection's). */
const ENV = { CHAT_SEND_RATE: '1', CHAT_SEND_BURST: '20', CHAT_JWT_MAX_TTL: '2h' };

describe('server API (/v1/server)', () => {
  const sys = useSystem('serverapi', ENV);
  /** `body` is sent as JSON; `raw` as it is (with `contentType`). */
  const call = async (method: string, path: string, body?: unknown, opts: { token?: string | null; raw?: string; contentType?: string; base?: string } = {}): Promise<Answer> => {
    const token = opts.token === undefined ? TEST_ADMIN_TOKEN : opts.token;
    const res = await fetch(`${opts.base ?? sys().app.url}${path}`, {
      method,
      headers: {
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...((body !== undefined || opts.raw !== undefined) && { 'content-type': opts.contentType ?? 'application/json' }),
      },
      ...((body !== undefined || opts.raw !== undefined) && { body: opts.raw ?? JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after') };
  };
  const ok = async (method: string, path: string, body?: unknown, base?: string) => {
    const answer = await call(method, path, body, { base });
    expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 200, body: expect.anything() });
    return answer.body;
  };
  const createGroup = async (createdBy: string, members: string[], title?: string): Promise<ConversationInfo> =>
    (await ok('POST', '/v1/server/conversations', { type: 'group', members, createdBy, ...(title && { title }) })).conversation;
  const messagesOf = async (conversationId: string): Promise<Message[]> => {
    const res = await fetch(`${sys().app.url}/v1/admin/conversations/${conversationId}/messages?limit=200`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    return ((await res.json()) as { messages: Message[] }).messages;
  };
  const liveMessages = (client: TestClient, conversationId: string) => client.messages().filter((m) => m.conversationId === conversationId);

  it('sends thread replies and mentions as a user, with the socket\'s rules and codes', async () => {
    const group = await createGroup('tom', ['uma']);
    const path = `/v1/server/conversations/${group.id}/messages`;
    const root = (await ok('POST', path, { senderId: 'tom', clientMsgId: 'root-1', body: 'a root' })).seq as number;
    const reply = (await ok('POST', path, { senderId: 'uma', clientMsgId: 'reply-1', body: '@tom yes', threadRootSeq: root, mentions: ['tom'] })).seq as number;
    expect(await call('POST', path, { senderId: 'uma', clientMsgId: 'reply-2', body: 'x', threadRootSeq: reply })).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(await call('POST', path, { senderId: 'uma', clientMsgId: 'reply-3', body: 'x', mentions: ['stranger'] })).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    const messages = await waitFor('the reply stored', async () => {
      const m = await messagesOf(group.id);
      return m.length === 2 ? m : undefined;
    });
    expect(messages[1]).toMatchObject({ seq: reply, threadRootSeq: root, mentions: ['tom'] });
    await waitFor('the root\'s summary', async () => (await messagesOf(group.id))[0]!.thread?.replies === 1);
  });

  it('mints client tokens that a stock Socket.IO client signs in with, with a device and a bounded lifetime', async () => {
    const answer = await ok('POST', '/v1/server/tokens', { userId: 'alice', deviceId: 'phone', ttlSeconds: 600 });
    const claims = decodeJwt(answer.token);
    expect(claims).toMatchObject({ sub: 'alice', did: 'phone' });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(answer.expiresAt).toBe(new Date(claims.exp! * 1000).toISOString());
    const alice = await sys().connect('alice', { token: answer.token });
    expect((await alice.ok('conversation:list', {})).conversations).toEqual([]);

    // Without ttlSeconds: a day, or CHAT_JWT_MAX_TTL (2h here) when that is shorter; no did.
    const plain = decodeJwt((await ok('POST', '/v1/server/tokens', { userId: 'bob' })).token);
    expect(plain.exp! - plain.iat!).toBe(7200);
    expect(plain.did).toBeUndefined();
    expect(await call('POST', '/v1/server/tokens', { userId: 'bob', ttlSeconds: 7201 })).toEqual({
      status: 400, body: { error: { code: 'BAD_REQUEST', message: 'ttlSeconds: at most 7200 (CHAT_JWT_MAX_TTL)' } }, retryAfter: null,
    });
  });

  it('creates a conversation, adds and removes members and sends as a user: delivered live to every member device, in history, once', async () => {
    const token = async (userId: string) => (await ok('POST', '/v1/server/tokens', { userId })).token as string;
    const alice = await sys().connect('alice', { token: await token('alice') });
    const bob = await sys().connect('bob', { token: await token('bob') });
    const carol = await sys().connect('carol', { token: await token('carol') });

    const conversation = await createGroup('alice', ['bob'], 'from the backend');
    expect(conversation).toMatchObject({ type: 'group', title: 'from the backend', createdBy: 'alice', members: ['alice', 'bob'] });
    const id = conversation.id;
    const changes = (client: TestClient) => client.received.filter((e): e is Extract<ChatEvent, { type: 'conversation' }> => e.type === 'conversation' && e.conversationId === id);
    await waitFor('bob to be told of the new conversation', () => changes(bob).some((e) => e.change === 'created'));

    const added = await ok('POST', `/v1/server/conversations/${id}/members`, { userIds: ['carol', 'dave'], by: 'bob' });
    expect(added).toEqual({ seq: expect.any(Number) });
    await waitFor('carol to be told she was added', () => changes(carol).some((e) => e.change === 'members_added' && e.seq === added.seq));

    const sent = await ok('POST', `/v1/server/conversations/${id}/messages`, { senderId: 'alice', clientMsgId: 'hello-1', body: 'hello from the backend' });
    expect(sent).toEqual({ seq: expect.any(Number), sentAt: expect.any(String) });
    // The API is no socket of alice's: all her devices are sent the message, like everyone else's.
    for (const client of [alice, bob, carol]) {
      const [m] = await waitForEvents(client, 1, (e) => e.type === 'message' && e.conversationId === id);
      expect(m).toMatchObject({ type: 'message', conversationId: id, seq: sent.seq, senderId: 'alice', clientMsgId: 'hello-1', body: 'hello from the backend', sentAt: sent.sentAt });
    }
    expect((await bob.ok('history', { conversationId: id })).messages).toEqual([expect.objectContaining({ seq: sent.seq, senderId: 'alice', body: 'hello from the backend' })]);

    // The same clientMsgId again, by the API or by one of alice's sockets: the first seq, nothing new.
    const again = await ok('POST', `/v1/server/conversations/${id}/messages`, { senderId: 'alice', clientMsgId: 'hello-1', body: 'hello from the backend' });
    expect(again).toEqual({ seq: sent.seq, sentAt: sent.sentAt, duplicate: true });
    expect(await alice.ok('message:send', { conversationId: id, clientMsgId: 'hello-1', body: 'hello from the backend' })).toMatchObject({ seq: sent.seq, duplicate: true });
    // Fields this server does not know are dropped, as on a socket.
    const reply = await ok('POST', `/v1/server/conversations/${id}/messages`, { senderId: 'bob', clientMsgId: 'reply-1', body: 'got it', replyToSeq: sent.seq, priority: 'high' });
    await waitForEvents(carol, 2, (e) => e.type === 'message' && e.conversationId === id);
    expect(liveMessages(carol, id).map((m) => m.clientMsgId)).toEqual(['hello-1', 'reply-1']);
    const stored = (await carol.ok('history', { conversationId: id })).messages;
    expect(stored.map((m) => [m.seq, m.clientMsgId])).toEqual([[sent.seq, 'hello-1'], [reply.seq, 'reply-1']]);
    expect(stored[1]).toEqual({ type: 'message', conversationId: id, seq: reply.seq, senderId: 'bob', clientMsgId: 'reply-1', body: 'got it', sentAt: reply.sentAt, replyToSeq: sent.seq });

    // The creator removes carol; dave leaves by himself (by = the user removed).
    const removed = await ok('DELETE', `/v1/server/conversations/${id}/members/carol?by=alice`);
    await waitFor('carol to be told she was removed', () => changes(carol).some((e) => e.change === 'members_removed' && e.seq === removed.seq));
    expect((await ok('DELETE', `/v1/server/conversations/${id}/members/dave?by=dave`)).seq).toBeGreaterThan(removed.seq);
    // Removing someone who is not a member (any more) is a no-op answered with the last seq.
    const noop = await ok('DELETE', `/v1/server/conversations/${id}/members/dave?by=alice`);
    expect(noop.seq).toBeGreaterThan(removed.seq);
    expect(await call('POST', `/v1/server/conversations/${id}/messages`, { senderId: 'carol', clientMsgId: 'after-removal', body: 'x' })).toEqual({
      status: 403, body: { error: { code: 'FORBIDDEN', message: 'not a member of this conversation' } }, retryAfter: null,
    });
    const admin = await ok('GET', `/v1/admin/conversations/${id}`);
    expect(admin.members.map((m: { userId: string }) => m.userId)).toEqual(['alice', 'bob']);

    // A direct conversation: the same one for the pair, whoever creates it and however.
    const direct = (await ok('POST', '/v1/server/conversations', { type: 'direct', members: ['bob'], createdBy: 'alice' })).conversation as ConversationInfo;
    expect(direct.type).toBe('direct');
    expect((await bob.ok('conversation:create', { type: 'direct', members: ['alice'] })).conversation.id).toBe(direct.id);
  });

  it('answers each refusal with its status and code, and writes nothing for it', async () => {
    const group = await createGroup('erin', ['frank']);
    const other = await createGroup('erin', ['frank']);
    const first = await ok('POST', `/v1/server/conversations/${group.id}/messages`, { senderId: 'erin', clientMsgId: 'e-1', body: 'first' });
    await ok('POST', `/v1/server/conversations/${other.id}/messages`, { senderId: 'frank', clientMsgId: 'f-elsewhere', body: 'there' });
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);

    const g = `/v1/server/conversations/${group.id}`;
    const many = Array.from({ length: 1001 }, (_, i) => `u${i}`);
    const cases: Array<[string, string, string, unknown, number, string, RegExp?]> = [
      ['token: no userId', 'POST', '/v1/server/tokens', {}, 400, 'BAD_REQUEST', /^userId: /],
      ['token: bad userId', 'POST', '/v1/server/tokens', { userId: 'has space' }, 400, 'BAD_REQUEST', /^userId: not a user id/],
      ['token: bad deviceId', 'POST', '/v1/server/tokens', { userId: 'erin', deviceId: 'a/b' }, 400, 'BAD_REQUEST', /^deviceId: /],
      ['token: ttl 0', 'POST', '/v1/server/tokens', { userId: 'erin', ttlSeconds: 0 }, 400, 'BAD_REQUEST', /^ttlSeconds: /],
      ['token: fractional ttl', 'POST', '/v1/server/tokens', { userId: 'erin', ttlSeconds: 1.5 }, 400, 'BAD_REQUEST', /^ttlSeconds: /],
      ['create: unknown type', 'POST', '/v1/server/conversations', { type: 'channel', members: ['frank'], createdBy: 'erin' }, 400, 'BAD_REQUEST', /^type: /],
      ['create: no createdBy', 'POST', '/v1/server/conversations', { type: 'group', members: ['frank'] }, 400, 'BAD_REQUEST', /^createdBy: /],
      ['create: direct with two others', 'POST', '/v1/server/conversations', { type: 'direct', members: ['frank', 'gina'], createdBy: 'erin' }, 400, 'BAD_REQUEST', /^members: /],
      ['create: U+0000 in title', 'POST', '/v1/server/conversations', { type: 'group', members: ['frank'], title: 'a\u0000b', createdBy: 'erin' }, 400, 'BAD_REQUEST', /^title: /],
      ['create: 1001 members', 'POST', '/v1/server/conversations', { type: 'group', members: many, createdBy: 'erin' }, 413, 'PAYLOAD_TOO_LARGE'],
      ['add: bad conversation id', 'POST', '/v1/server/conversations/a.b/members', { userIds: ['gina'], by: 'erin' }, 400, 'BAD_REQUEST', /^id: not a conversation id/],
      ['add: unknown conversation', 'POST', '/v1/server/conversations/g_missing/members', { userIds: ['gina'], by: 'erin' }, 404, 'NOT_FOUND', /no such conversation/],
      ['add: by a non-member', 'POST', `${g}/members`, { userIds: ['gina'], by: 'mallory' }, 403, 'FORBIDDEN', /not a member/],
      ['add: no userIds', 'POST', `${g}/members`, { userIds: [], by: 'erin' }, 400, 'BAD_REQUEST', /^userIds: /],
      ['add: 1001 users', 'POST', `${g}/members`, { userIds: many, by: 'erin' }, 413, 'PAYLOAD_TOO_LARGE', /^userIds: /],
      ['add: no by', 'POST', `${g}/members`, { userIds: ['gina'] }, 400, 'BAD_REQUEST', /^by: /],
      ['remove: no by', 'DELETE', `${g}/members/frank`, undefined, 400, 'BAD_REQUEST', /^by: /],
      ['remove: bad user id', 'DELETE', `${g}/members/has%20space?by=erin`, undefined, 400, 'BAD_REQUEST', /^userId: not a user id/],
      ['remove: unknown conversation', 'DELETE', '/v1/server/conversations/g_missing/members/frank?by=erin', undefined, 404, 'NOT_FOUND'],
      ['remove: by a non-member', 'DELETE', `${g}/members/frank?by=mallory`, undefined, 403, 'FORBIDDEN', /not a member/],
      ['remove: a member removing another (only the creator may)', 'DELETE', `${g}/members/erin?by=frank`, undefined, 403, 'FORBIDDEN'],
      ['send: no clientMsgId', 'POST', `${g}/messages`, { senderId: 'erin', body: 'x' }, 400, 'BAD_REQUEST', /^clientMsgId: /],
      ['send: no senderId', 'POST', `${g}/messages`, { clientMsgId: 'n-1', body: 'x' }, 400, 'BAD_REQUEST', /^senderId: /],
      ['send: control character in clientMsgId', 'POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'a\r\nb', body: 'x' }, 400, 'BAD_REQUEST', /^clientMsgId: /],
      ['send: 20 KiB body', 'POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'big-1', body: 'x'.repeat(20 * 1024) }, 413, 'PAYLOAD_TOO_LARGE', /^body: /],
      ['send: multi-byte body over 16 KiB', 'POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'big-2', body: 'é'.repeat(9000) }, 413, 'PAYLOAD_TOO_LARGE', /^body: /],
      ['send: wildcard conversation id', 'POST', '/v1/server/conversations/*/messages', { senderId: 'erin', clientMsgId: 'w-1', body: 'x' }, 400, 'BAD_REQUEST', /^id: /],
      ['send: unknown conversation', 'POST', '/v1/server/conversations/g_missing/messages', { senderId: 'erin', clientMsgId: 'u-1', body: 'x' }, 404, 'NOT_FOUND', /no such conversation/],
      ['send: by a non-member', 'POST', `${g}/messages`, { senderId: 'mallory', clientMsgId: 'm-1', body: 'x' }, 403, 'FORBIDDEN', /not a member/],
      ['send: reply past the end', 'POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'r-1', body: 'x', replyToSeq: first.seq + 1000 }, 404, 'NOT_FOUND'],
      ['send: a JSON array', 'POST', `${g}/messages`, [{ senderId: 'erin' }], 400, 'BAD_REQUEST'],
    ];
    const wrong: unknown[] = [];
    const check = (name: string, answer: Answer, status: number, code: string, message?: RegExp) => {
      const fine = answer.status === status && answer.body?.error?.code === code && typeof answer.body.error.message === 'string' && (!message || message.test(answer.body.error.message));
      if (!fine) wrong.push({ name, expected: { status, code, message: message?.source }, got: { status: answer.status, body: answer.body } });
    };
    for (const [name, method, path, body, status, code, message] of cases) check(name, await call(method, path, body), status, code, message);

    // Not JSON, or too large for the server to read at all.
    check('malformed JSON', await call('POST', `${g}/messages`, undefined, { raw: '{"senderId": "erin",' }), 400, 'BAD_REQUEST');
    check('not JSON at all', await call('POST', `${g}/messages`, undefined, { raw: 'senderId=erin', contentType: 'text/plain' }), 400, 'BAD_REQUEST');
    check('a 300 KiB request', await call('POST', `${g}/messages`, undefined, { raw: JSON.stringify({ senderId: 'erin', clientMsgId: 'huge', body: 'x'.repeat(300 * 1024) }) }), 413, 'PAYLOAD_TOO_LARGE');

    // Without the admin token, or with a wrong one: 401 and 403 on every route, before anything is read.
    const routes: Array<[string, string, unknown]> = [
      ['POST', '/v1/server/tokens', { userId: 'erin' }],
      ['POST', '/v1/server/conversations', { type: 'group', members: ['frank'], createdBy: 'erin' }],
      ['POST', `${g}/members`, { userIds: ['gina'], by: 'erin' }],
      ['DELETE', `${g}/members/frank?by=erin`, undefined],
      ['POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'no-token', body: 'x' }],
    ];
    for (const [method, path, body] of routes) {
      check(`${method} ${path} without a token`, await call(method, path, body, { token: null }), 401, 'UNAUTHORIZED');
      check(`${method} ${path} with a wrong token`, await call(method, path, body, { token: 'wrong-token-of-some-length' }), 403, 'FORBIDDEN');
    }
    expect(wrong).toEqual([]);

    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(before);

    // A clientMsgId reused in another conversation is refused as message:send refuses it: the
    // publish does not wait for the lookup, so when the two conversations sit on different
    // partitions a copy reaches the log, where the projector refuses it; nobody is shown it.
    expect(await call('POST', `${g}/messages`, { senderId: 'frank', clientMsgId: 'f-elsewhere', body: 'reused' })).toEqual({
      status: 400, body: { error: { code: 'BAD_REQUEST', message: 'clientMsgId: already used for a message in another conversation' } }, retryAfter: null,
    });
    // The process is fine: the next good request is answered, and the group holds only what was accepted.
    const next = await ok('POST', `${g}/messages`, { senderId: 'erin', clientMsgId: 'e-2', body: 'still here' });
    await caughtUp(sys().ns);
    expect((await messagesOf(group.id)).map((m) => [m.seq, m.clientMsgId])).toEqual([[first.seq, 'e-1'], [next.seq, 'e-2']]);
  });

  it("limits sends per senderId to a connection's budget: 429 RATE_LIMITED with retryAfterMs, nothing stored for them", async () => {
    const group = await createGroup('flood', ['calm']);
    // 40 at once against a burst of 20 and one more a second: at least 19 of them are refused.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call('POST', `/v1/server/conversations/${group.id}/messages`, { senderId: 'flood', clientMsgId: `flood-${i}`, body: `message ${i}` })),
    );
    const accepted = answers.flatMap((a, i) => (a.status === 200 ? [`flood-${i}`] : []));
    const limited = answers.filter((a) => a.status === 429);
    expect(accepted.length + limited.length).toBe(40);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const a of limited) {
      expect(a.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many sends by flood', retryAfterMs: expect.any(Number) } });
      expect(a.body.error.retryAfterMs).toBeGreaterThan(0);
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Another sender in the same conversation has a budget of its own.
    const calm = await ok('POST', `/v1/server/conversations/${group.id}/messages`, { senderId: 'calm', clientMsgId: 'calm-1', body: 'unaffected' });
    await caughtUp(sys().ns);
    const stored = await messagesOf(group.id);
    expect(stored.filter((m) => m.senderId === 'flood').map((m) => m.clientMsgId).sort()).toEqual([...accepted].sort());
    expect(stored.filter((m) => m.senderId === 'calm').map((m) => m.seq)).toEqual([calm.seq]);
  });

  it('is served the same by the API app of a split deployment (start:api), beside the gateway', async () => {
    const api = await startApp({ env: sys().ns.env, script: 'start:api' });
    try {
      const token = (await ok('POST', '/v1/server/tokens', { userId: 'hana' }, api.url)).token as string;
      const hana = await connectClient(sys().app.url, 'hana', { token });
      try {
        const conversation = (await ok('POST', '/v1/server/conversations', { type: 'group', members: ['hana'], createdBy: 'ivan' }, api.url)).conversation as ConversationInfo;
        const sent = await ok('POST', `/v1/server/conversations/${conversation.id}/messages`, { senderId: 'ivan', clientMsgId: 'split-1', body: 'through start:api' }, api.url);
        const [m] = await waitForEvents(hana, 1, (e) => e.type === 'message' && e.conversationId === conversation.id);
        expect(m).toMatchObject({ seq: sent.seq, senderId: 'ivan', body: 'through start:api' });
        // One rule for duplicates across processes: the all-in-one answers the API app's original.
        expect(await ok('POST', `/v1/server/conversations/${conversation.id}/messages`, { senderId: 'ivan', clientMsgId: 'split-1', body: 'through start:api' })).toEqual({ ...sent, duplicate: true });
        // A removal made elsewhere (a socket, on the gateway) counts at once for the API app's next command.
        await (await sys().connect('ivan', { token: await tokenFor('ivan') })).ok('conversation:remove_members', { conversationId: conversation.id, userIds: ['hana'] });
        expect((await call('POST', `/v1/server/conversations/${conversation.id}/messages`, { senderId: 'hana', clientMsgId: 'h-1', body: 'x' }, { base: api.url })).status).toBe(403);
      } finally {
        hana.close();
      }
    } finally {
      await api.stop();
    }
  });
});
