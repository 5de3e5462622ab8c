import { waitForEvents, tokenFor } from '../support/clients';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

const SECRET_BODY = 'a-body-that-must-never-be-logged';

describe('admin REST API', () => {
  const sys = useSystem('adminapi', { CHAT_DEV_TOKENS: '1', CHAT_LOG_LEVEL: 'debug' });
  const get = (path: string, token: string | null = TEST_ADMIN_TOKEN, headers: Record<string, string> = {}) =>
    fetch(`${sys().app.url}${path}`, { headers: { ...(token !== null && { authorization: `Bearer ${token}` }), ...headers } });
  const json = async (path: string) => {
    const res = await get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return res.json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  let group = '';
  let direct = '';
  const seqs: number[] = [];
  beforeAll(async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    await sys().connect('bob', { deviceId: 'second' });
    group = (await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'], title: 'admin view' })).conversation.id;
    direct = (await alice.ok('conversation:create', { type: 'direct', members: ['bob'] })).conversation.id;
    for (let i = 0; i < 5; i++) seqs.push((await alice.ok('message:send', { conversationId: group, clientMsgId: `g${i}`, body: `${SECRET_BODY} ${i}` })).seq);
    await alice.ok('message:send', { conversationId: direct, clientMsgId: 'd0', body: SECRET_BODY });
    await waitForEvents(bob, 6, (e) => e.type === 'message');
    await bob.ok('read', { conversationId: group, seq: seqs[2]! });
    await waitFor('the read marker projected', async () => (await bob.ok('conversation:list', {})).conversations.find((c) => c.id === group)?.lastReadSeq === seqs[2]);
  });

  it('answers every route with what the read models hold', async () => {
    const list = await json('/v1/admin/users/bob/conversations?limit=1');
    expect(list.conversations).toHaveLength(1);
    expect(list.conversations[0].id).toBe(direct);
    const second = await json(`/v1/admin/users/bob/conversations?limit=1&cursor=${list.next}`);
    expect(second.conversations.map((c: { id: string }) => c.id)).toEqual([group]);
    expect(second.conversations[0]).toMatchObject({ unread: 2, lastReadSeq: seqs[2], memberCount: 3 });
    expect(second.next).toBeUndefined();

    const conv = await json(`/v1/admin/conversations/${group}?limit=2`);
    expect(conv.conversation).toMatchObject({ id: group, type: 'group', title: 'admin view', memberCount: 3, messageCount: 5, createdBy: 'alice' });
    expect(conv.members.map((m: { userId: string }) => m.userId)).toEqual(['alice', 'bob']);
    const rest = await json(`/v1/admin/conversations/${group}?limit=2&cursor=${conv.next}`);
    expect(rest.members).toEqual([{ userId: 'carol', joinedSeq: expect.any(Number), lastReadSeq: 0, unread: 5 }]);

    const all = await json(`/v1/admin/conversations/${group}/messages?limit=2`);
    expect(all.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(0, 2));
    const page2 = await json(`/v1/admin/conversations/${group}/messages?limit=2&cursor=${all.next}`);
    expect(page2.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(2, 4));
    const range = await json(`/v1/admin/conversations/${group}/messages?afterSeq=${seqs[0]}&beforeSeq=${seqs[4]}`);
    expect(range.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(1, 4));
    // beforeSeq alone pages back from there: the latest before it, ascending, then older pages.
    const back = await json(`/v1/admin/conversations/${group}/messages?limit=2&beforeSeq=${seqs[4]}`);
    expect(back.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(2, 4));
    const back2 = await json(`/v1/admin/conversations/${group}/messages?limit=2&beforeSeq=${seqs[4]}&cursor=${back.next}`);
    expect(back2.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(0, 2));
    expect(back2.next).toBeUndefined();
    // The latest page without any seq: order=desc, paged back with its cursor.
    const latest = await json(`/v1/admin/conversations/${group}/messages?limit=2&order=desc`);
    expect(latest.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(3, 5));
    const older = await json(`/v1/admin/conversations/${group}/messages?limit=2&cursor=${latest.next}`);
    expect(older.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(1, 3));
    const oldest = await json(`/v1/admin/conversations/${group}/messages?limit=2&cursor=${older.next}`);
    expect(oldest.messages.map((m: { seq: number }) => m.seq)).toEqual(seqs.slice(0, 1));
    expect(oldest.next).toBeUndefined();

    expect(await json('/v1/admin/users/bob/presence')).toEqual({ userId: 'bob', status: 'online' });
    expect(await json('/v1/admin/users/nobody/presence')).toEqual({ userId: 'nobody', status: 'offline' });
    const conns = await json('/v1/admin/users/bob/connections?limit=1');
    expect(conns.connections).toEqual([{ connectionId: expect.any(String), node: expect.any(String), epoch: expect.any(Number), expiresAt: expect.any(String) }]);
    const conns2 = await json(`/v1/admin/users/bob/connections?limit=1&cursor=${conns.next}`);
    expect(conns2.connections).toHaveLength(1);
    expect(conns2.connections[0].connectionId).not.toBe(conns.connections[0].connectionId);

    const projections = await json('/v1/admin/projections');
    expect(projections.projections[0].partitions).toHaveLength(4);
    const storage = await json('/v1/admin/storage');
    expect(storage.tiers).toEqual([
      expect.objectContaining({ tier: 'hot', messages: 6, bytes: expect.any(Number) }),
      expect.objectContaining({ tier: 'warm', messages: 0, blocks: 0 }),
      expect.objectContaining({ tier: 'cold', messages: 0, blocks: 0 }),
    ]);
    expect(storage.damaged).toEqual([]);
    expect(await json(`/v1/admin/node`)).toMatchObject({ connections: 3 });
  });

  it("explains the notifier's decisions: online as ranges per conversation, the others one per message", async () => {
    type Decision = { conversationId: string; seq: number; toSeq?: number; messages?: number; decision: string };
    const decisions = async (user: string) => (await json(`/v1/admin/users/${user}/push-decisions`)).decisions as Decision[];
    // bob was online for all six messages, in two conversations; carol offline, with no device.
    await waitFor("bob's ranges cover six messages", async () => (await decisions('bob')).reduce((n, d) => n + (d.messages ?? 0), 0) === 6);
    const bob = await decisions('bob');
    expect(bob.every((d) => d.decision === 'online' && d.toSeq! >= d.seq)).toBe(true);
    for (const seq of seqs) expect(bob.filter((d) => d.conversationId === group && d.seq <= seq && seq <= d.toSeq!)).toHaveLength(1);
    expect(bob.filter((d) => d.conversationId === direct)).toEqual([expect.objectContaining({ messages: 1 })]);
    await waitFor("carol's five decisions", async () => (await decisions('carol')).length === 5);
    const carol = await decisions('carol');
    expect(carol.map((d) => [d.seq, d.decision]).sort()).toEqual(seqs.map((seq) => [seq, 'no_device']).sort());
    expect(carol.every((d) => d.toSeq === undefined && d.messages === undefined)).toBe(true);
    expect(await decisions('alice')).toEqual([]);
  });

  it('answers 401 without a token, 403 with a wrong one, 400 for bad parameters, 404 for unknown ids', async () => {
    const routes = ['/v1/admin/users/bob/conversations', '/v1/admin/users/bob/presence', '/v1/admin/users/bob/connections', `/v1/admin/conversations/${group}`,
      `/v1/admin/conversations/${group}/messages`, '/v1/admin/projections', '/v1/admin/storage', '/v1/admin/node', '/v1/admin/users/bob/push-decisions'];
    for (const path of routes) {
      expect({ path, status: (await get(path, null)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await get(path, 'wrong-token-of-some-length')).status }).toEqual({ path, status: 403 });
    }
    for (const [path, message] of [
      ['/v1/admin/users/bob/conversations?limit=0', /limit/],
      ['/v1/admin/users/bob/conversations?limit=abc', /limit/],
      ['/v1/admin/users/bob/conversations?limit=201', /limit/],
      ['/v1/admin/users/bob/conversations?cursor=garbage', /cursor/],
      ['/v1/admin/users/has%20space/presence', /userId/],
      ['/v1/admin/conversations/a.b', /id/],
      [`/v1/admin/conversations/${group}/messages?afterSeq=-1`, /afterSeq/],
      [`/v1/admin/conversations/${group}/messages?beforeSeq=x`, /beforeSeq/],
      [`/v1/admin/conversations/${group}/messages?order=newest`, /order/],
    ] as const) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
    expect((await get('/v1/admin/conversations/g_missing')).status).toBe(404);
    expect((await get('/v1/admin/conversations/g_missing/messages')).status).toBe(404);
  });

  it('documents at /docs exactly the routes the server maps', async () => {
    const doc = (await (await get('/docs', null)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    // Nest logs each route it maps (at debug): "Mapped {/v1/admin/users/:userId/presence, GET} route".
    const mapped = [...sys().app.output().matchAll(/Mapped \{([^,]+), (\w+)\} route/g)]
      .map(([, path, method]) => `${method} ${path!.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(mapped.length).toBeGreaterThan(10);
    expect(documented).toEqual(mapped);
  });

  it('exports the figures in Prometheus text at /metrics', async () => {
    await (await sys().connect('metrics-reader')).ok('sync', {});
    const text = await (await get('/metrics', null)).text();
    const value = (line: RegExp) => Number(text.match(line)?.[1]);
    expect(value(/^chat_sends_total\{result="accepted"\} (\d+)/m)).toBe(6);
    expect(value(/^chat_connections\{node="[^"]+"\} (\d+)/m)).toBe(4);
    expect(value(/^chat_delivery_latency_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(6);
    expect(value(/^chat_projector_batch_size_count (\d+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^chat_projection_lag_events\{partition="\d"\} \d+/m);
    expect(text).toMatch(/^chat_query_latency_seconds_count\{query="sync"\} \d+/m);
    expect(text).toMatch(/^chat_events_received_total\{event="message:send"\} 6/m);
  });

  it('logs JSON lines with correlation ids and never a message body or a token', async () => {
    const token = await tokenFor('logger');
    await get('/v1/admin/storage', TEST_ADMIN_TOKEN, { 'x-request-id': 'req-test-42' });
    await get(`/v1/dev/token?user=logger`, null);
    await waitFor('the request line', () => sys().app.output().includes('"reqId":"req-test-42"'));
    const lines = sys().app.output().split('\n').filter((l) => l.startsWith('{'));
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.find((l) => l.includes('"reqId":"req-test-42"'))).toMatch(/"path":"\/v1\/admin\/storage","status":200/);
    const all = sys().app.output();
    expect(all).not.toContain(SECRET_BODY);
    expect(all).not.toContain(TEST_ADMIN_TOKEN);
    expect(all).not.toContain(token.split('.')[2]);
  });
});
