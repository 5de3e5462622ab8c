import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createH2, type Http2Server, type ServerHttp2Session } from 'node:http2';
import { verifyWebhookSignature } from '@chat/push';
import { freePort, startApp, type AppProcess } from '../support/app-process';
import { connectClient } from '../support/clients';
import { query } from '../support/inspect';
import { createNamespace, TEST_ADMIN_TOKEN, UNLIMITED, type TestNamespace } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
/** An APNs device token (64 hex digits) that the local APNs endpoint reports gone. */
const GONE_APNS = 'dead'.repeat(16);

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server that records what it is sent and answers with `answer`. */
async function receiver(answer: (r: Received) => { status: number; body?: string; headers?: Record<string, string> }) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body };
      got.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { got, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const decisionsOf = async (url: string, userId: string) =>
  ((await (await fetch(`${url}/v1/admin/users/${userId}/push-decisions?limit=200`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as {
    decisions: Array<{ seq: number; toSeq?: number; messages?: number; decision: string; detail?: string }>;
  }).decisions;

describe('wake-ups through a signed webhook', () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hooks = await receiver(() => ({ status: 200 }));
  });
  afterAll(async () => hooks?.close());
  const sys = useSystem('pushhook', {
    ...UNLIMITED, CHAT_PUSH_WEBHOOK_SECRET: WEBHOOK_SECRET, CHAT_PUSH_COALESCE: '30s', CHAT_PUSH_ACTIVE_WITHIN: '1h',
    CHAT_PUSH_WEBHOOK_HOSTS: '127.0.0.1,hooks.example.com,10.1.2.3,169.254.169.254',
  });

  it('wakes an offline, recently active user once for 20 messages in 2 s, signed, without text; not the online or the idle', async () => {
    let erinLeaves = new Date();
    for (const user of ['carol', 'dave', 'erin']) {
      const c = await connectClient(sys().app.url, user);
      await c.ok('push:register', { platform: 'webhook', token: `${hooks.url}/${user}` });
      erinLeaves = new Date(); // after her handshake and a round trip, before her disconnect
      if (user !== 'dave') c.close();
    }
    await sys().connect('dave'); // dave stays online
    // erin was last seen two hours ago: longer than CHAT_PUSH_ACTIVE_WITHIN. Her disconnect
    // is written first (the gateway writes last activity every few seconds), so that it
    // cannot overwrite the two hours afterwards.
    await waitFor('erin offline', async () => (await query(sys().ns, `SELECT 1 FROM public.user_activity WHERE user_id = 'erin' AND last_active_at >= $1`, [erinLeaves])).length === 1);
    await query(sys().ns, `UPDATE public.user_activity SET last_active_at = now() - interval '2 hours' WHERE user_id = 'erin'`);

    const alice = await sys().connect('alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['carol', 'dave', 'erin'] });
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      seqs.push((await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `w${i}`, body: `a secret text ${i}` })).seq);
      await new Promise((r) => setTimeout(r, 100)); // 20 messages spread over 2 s, the pace the issue names
    }
    for (const user of ['carol', 'erin']) {
      await waitFor(`${user}'s 20 decisions`, async () => (await decisionsOf(sys().app.url, user)).length === 20, 30_000, 100);
    }
    // dave's are ranges, one per flush: together they cover the 20 messages, each once.
    const covered = (ranges: Awaited<ReturnType<typeof decisionsOf>>) => ranges.reduce((n, d) => n + (d.messages ?? 1), 0);
    await waitFor("dave's online ranges cover 20 messages", async () => covered(await decisionsOf(sys().app.url, 'dave')) === 20, 30_000, 100);
    const carol = await decisionsOf(sys().app.url, 'carol');
    expect(carol.filter((d) => d.decision === 'woken')).toHaveLength(1);
    expect(carol.filter((d) => d.decision === 'coalesced')).toHaveLength(19);
    const dave = await decisionsOf(sys().app.url, 'dave');
    expect(dave.every((d) => d.decision === 'online')).toBe(true);
    for (const seq of seqs) expect(dave.filter((d) => d.seq <= seq && seq <= d.toSeq!)).toHaveLength(1);
    expect(dave.every((d) => seqs.includes(d.seq) && seqs.includes(d.toSeq!))).toBe(true);
    expect((await decisionsOf(sys().app.url, 'erin')).every((d) => d.decision === 'idle')).toBe(true);

    expect(hooks.got.map((r) => r.path)).toEqual(['/carol']);
    const [call] = hooks.got;
    expect(verifyWebhookSignature(WEBHOOK_SECRET, String(call!.headers['x-chat-timestamp']), call!.body, String(call!.headers['x-chat-signature']))).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456789', String(call!.headers['x-chat-timestamp']), call!.body, String(call!.headers['x-chat-signature']))).toBe(false);
    expect(call!.body).not.toMatch(/secret text/);
    expect(JSON.parse(call!.body)).toEqual({ type: 'wake', userId: 'carol', deviceId: expect.any(String), at: expect.any(String), conversations: [{ conversationId: conversation.id, count: expect.any(Number) }] });
  });

  it('decides for a member added after the notifier read the members, and not for the messages before it joined', async () => {
    const gus = await connectClient(sys().app.url, 'gus');
    await gus.ok('push:register', { platform: 'webhook', token: `${hooks.url}/gus` });
    gus.close();
    await waitFor('gus offline', async () => (await query(sys().ns, `SELECT 1 FROM public.user_activity WHERE user_id = 'gus'`)).length === 1);
    const alice = await sys().connect('alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['hal'] });
    const first = (await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'before', body: 'before gus' })).seq;
    await waitFor("hal's first decision", async () => (await decisionsOf(sys().app.url, 'hal')).length === 1, 30_000, 100);
    await alice.ok('conversation:add_members', { conversationId: conversation.id, userIds: ['gus'] });
    const second = (await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'after', body: 'after gus' })).seq;
    await waitFor("gus's decision", async () => (await decisionsOf(sys().app.url, 'gus')).length === 1, 30_000, 100);
    expect((await decisionsOf(sys().app.url, 'gus')).map((d) => [d.seq, d.decision])).toEqual([[second, 'woken']]);
    expect((await decisionsOf(sys().app.url, 'hal')).map((d) => [d.seq, d.decision])).toEqual([[second, 'no_device'], [first, 'no_device']]);
    expect(hooks.got.filter((r) => r.path === '/gus')).toHaveLength(1);
  });

  it('refuses webhooks to hosts not allowed, to private, link-local and encoded addresses, and other schemes; and a platform without settings', async () => {
    const c = await sys().connect('frank');
    const refused = [
      'http://example.com/hook', 'https://evil.example.org/hook', 'https://10.1.2.3:8443/x', 'https://169.254.169.254/latest/meta-data/',
      'https://[fd00::1]/x', 'https://[::ffff:127.0.0.1]/x', 'http://2130706433/x', 'http://0177.0.0.1/x', 'http://0x7f.1/x',
      'file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO', 'https://user:pw@hooks.example.com/x', 'http://hooks.example.com/x',
    ];
    for (const token of refused) {
      expect([token, await c.request('push:register', { platform: 'webhook', token })]).toEqual([token, { ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }]);
    }
    expect(await c.request('push:register', { platform: 'fcm', token: 'abc' })).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringMatching(/not configured/) }) });
    expect(await query(sys().ns, `SELECT 1 FROM public.push_devices WHERE user_id = 'frank'`)).toEqual([]);
    await c.ok('push:register', { platform: 'webhook', token: 'https://hooks.example.com/frank' });
    await c.ok('push:unregister', {});
    expect(await query(sys().ns, `SELECT 1 FROM public.push_devices WHERE user_id = 'frank'`)).toEqual([]);
  });

  it('keeps one registration per token for connections without a device id, and at most 10 per user', async () => {
    // Five reconnects without a `did`, each registering the same URL: one registration.
    for (let i = 0; i < 5; i++) {
      const c = await connectClient(sys().app.url, 'ines');
      await c.ok('push:register', { platform: 'webhook', token: 'https://hooks.example.com/ines' });
      c.close();
    }
    expect(await query(sys().ns, `SELECT device_id FROM public.push_devices WHERE user_id = 'ines'`)).toHaveLength(1);
    // Its connection can unregister it.
    const again = await connectClient(sys().app.url, 'ines');
    await again.ok('push:register', { platform: 'webhook', token: 'https://hooks.example.com/ines' });
    await again.ok('push:unregister', {});
    expect(await query(sys().ns, `SELECT 1 FROM public.push_devices WHERE user_id = 'ines'`)).toEqual([]);
    again.close();

    for (let i = 0; i < 10; i++) {
      const c = await connectClient(sys().app.url, 'jo', { deviceId: `dev${i}` });
      await c.ok('push:register', { platform: 'webhook', token: `https://hooks.example.com/jo/${i}` });
      c.close();
    }
    const eleventh = await connectClient(sys().app.url, 'jo', { deviceId: 'dev10' });
    expect(await eleventh.request('push:register', { platform: 'webhook', token: 'https://hooks.example.com/jo/10' })).toEqual({
      ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringMatching(/at most 10 push registrations/) }),
    });
    const known = await connectClient(sys().app.url, 'jo', { deviceId: 'dev3' });
    await known.ok('push:register', { platform: 'webhook', token: 'https://hooks.example.com/jo/3b' }); // replacing its own: fine
    expect(await query(sys().ns, `SELECT 1 FROM public.push_devices WHERE user_id = 'jo'`)).toHaveLength(10);
    await known.ok('push:unregister', {});
    await eleventh.ok('push:register', { platform: 'webhook', token: 'https://hooks.example.com/jo/10' });
    expect(await query(sys().ns, `SELECT 1 FROM public.push_devices WHERE user_id = 'jo'`)).toHaveLength(10);
    eleventh.close();
    known.close();
  });
});

describe('wake-ups through FCM and APNs endpoints', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  let fcm: Awaited<ReturnType<typeof receiver>>;
  let apns: Http2Server;
  const apnsGot: string[] = [];
  const apnsSessions: ServerHttp2Session[] = [];
  let apnsPort = 0;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    const sendsOf = new Map<string, number>();
    fcm = await receiver((r) => {
      if (r.path === '/token') return { status: 200, body: JSON.stringify({ access_token: 'fcm-access', expires_in: 3600 }) };
      const token = (JSON.parse(r.body) as { message: { token: string } }).message.token;
      sendsOf.set(token, (sendsOf.get(token) ?? 0) + 1);
      if (token === 'gone-token') return { status: 404, body: JSON.stringify({ error: { status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } }) };
      if (token === 'flaky-token' && sendsOf.get(token) === 1) return { status: 503 };
      return { status: 200, body: '{"name":"ok"}' };
    });
    apnsPort = await freePort();
    apns = createH2((req, res) => {
      apnsGot.push(String(req.headers[':path']));
      const gone = String(req.headers[':path']).endsWith(`/${GONE_APNS}`);
      res.writeHead(gone ? 410 : 200, { 'content-type': 'application/json' });
      res.end(gone ? '{"reason":"Unregistered"}' : '');
    });
    apns.on('session', (session) => apnsSessions.push(session));
    await new Promise<void>((resolve) => apns.listen(apnsPort, '127.0.0.1', resolve));
    Object.assign(env, {
      ...UNLIMITED,
      CHAT_PUSH_ACTIVE_WITHIN: '1h',
      CHAT_FCM_PROJECT_ID: 'test-project', CHAT_FCM_CLIENT_EMAIL: 'notifier@test-project.iam.example.com',
      CHAT_FCM_PRIVATE_KEY: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      CHAT_FCM_TOKEN_URL: `${fcm.url}/token`, CHAT_FCM_ENDPOINT: fcm.url,
      CHAT_APNS_TEAM_ID: 'TEAM123456', CHAT_APNS_KEY_ID: 'KEY1234567', CHAT_APNS_BUNDLE_ID: 'com.example.chat',
      CHAT_APNS_PRIVATE_KEY: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), CHAT_APNS_ENDPOINT: `http://127.0.0.1:${apnsPort}`,
    });
  });
  afterAll(async () => {
    await fcm?.close();
    // The notifier keeps its HTTP/2 session open: end it, or close() waits for it.
    for (const session of apnsSessions) session.destroy();
    await new Promise<void>((r) => apns?.close(() => r()));
  });
  const sys = useSystem('pushprov', env);

  it('removes a token the provider reports gone (FCM 404 UNREGISTERED, APNs 410) and retries a 503 until it succeeds', async () => {
    for (const [user, platform, token] of [['gina', 'fcm', 'gone-token'], ['hank', 'fcm', 'flaky-token'], ['ivy', 'apns', GONE_APNS]] as const) {
      const c = await connectClient(sys().app.url, user);
      await c.ok('push:register', { platform, token });
      c.close();
    }
    const alice = await sys().connect('alice');
    await waitFor('three offline', async () => (await query(sys().ns, `SELECT count(*)::int AS n FROM public.user_activity WHERE user_id IN ('gina','hank','ivy')`))[0]!.n === 3);
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['gina', 'hank', 'ivy'] });
    await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'p1', body: 'wake up' });
    for (const user of ['gina', 'hank', 'ivy']) await waitFor(`${user}'s decision`, async () => (await decisionsOf(sys().app.url, user)).length === 1, 30_000, 100);

    expect((await decisionsOf(sys().app.url, 'hank'))[0]).toMatchObject({ decision: 'woken' });
    expect(fcm.got.filter((r) => r.body.includes('flaky-token'))).toHaveLength(2); // a 503, then the retry that succeeded
    expect((await decisionsOf(sys().app.url, 'gina'))[0]).toMatchObject({ decision: 'failed', detail: expect.stringMatching(/gone/) });
    expect((await decisionsOf(sys().app.url, 'ivy'))[0]).toMatchObject({ decision: 'failed', detail: expect.stringMatching(/gone/) });
    expect(apnsGot).toEqual([`/3/device/${GONE_APNS}`]);
    const left = await query<{ user_id: string }>(sys().ns, `SELECT user_id FROM public.push_devices ORDER BY user_id`);
    expect(left.map((r) => r.user_id)).toEqual(['hank']);
    // The FCM requests carried an OAuth2 access token from the service-account exchange.
    expect(fcm.got.find((r) => r.path === '/token')?.body).toMatch(/grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer/);
    expect(fcm.got.filter((r) => r.path.includes('messages:send')).every((r) => r.headers.authorization === 'Bearer fcm-access')).toBe(true);
  });
});

describe('a notifier that crashes right after sending', () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  beforeAll(async () => {
    hooks = await receiver(() => ({ status: 200 }));
    ns = createNamespace('pushcrash', { ...UNLIMITED, CHAT_PUSH_WEBHOOK_SECRET: WEBHOOK_SECRET, CHAT_PUSH_ACTIVE_WITHIN: '1h', CHAT_PUSH_WEBHOOK_HOSTS: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.stop();
    await hooks?.close();
    await ns?.cleanup();
  });

  it('sends no second wake-up within the window when the message is redelivered after the crash', async () => {
    app = await startApp({ env: { ...ns.env, CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS: '1' } });
    const carol = await connectClient(app.url, 'carol');
    await carol.ok('push:register', { platform: 'webhook', token: `${hooks.url}/carol` });
    carol.close();
    const alice = await connectClient(app.url, 'alice');
    await waitFor('carol offline', async () => (await query(ns, `SELECT 1 FROM public.user_activity WHERE user_id = 'carol'`)).length === 1);
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['carol'] });
    await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'c1', body: 'wake' });
    // The hook kills the worker (notifier, projector, archiver) after the webhook call, before
    // the decision and the ack; the supervisor restarts it without the hook.
    await waitFor('the notifier to crash by its hook', () => /test hook: notifier crashing after 1 sends/.test(app!.output()), 30_000);
    expect(hooks.got).toHaveLength(1);
    await waitFor('the worker restarted', () => (app!.output().match(/"msg":"worker started"/g)?.length ?? 0) === 2, 30_000);

    // The unacked message comes back once its ack wait (10 s) has passed.
    await waitFor('the redelivered message decided', async () => (await decisionsOf(app!.url, 'carol')).length >= 1, 45_000, 100);
    expect((await decisionsOf(app.url, 'carol')).map((d) => d.decision)).toEqual(['coalesced']);
    expect(app.output().match(/test hook: notifier crashing/g)).toHaveLength(1);
    expect(hooks.got).toHaveLength(1);
    alice.close();
  });
});

/** A TCP server that accepts connections and never answers: a dead webhook endpoint. */
async function hangingEndpoint() {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createNetServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() { return accepted; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('a webhook endpoint that accepts connections and never answers', () => {
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let dead: Awaited<ReturnType<typeof hangingEndpoint>>;
  beforeAll(async () => {
    hooks = await receiver(() => ({ status: 200 }));
    dead = await hangingEndpoint();
  });
  afterAll(async () => {
    await dead?.close();
    await hooks?.close();
  });
  // One partition: every message below goes through the same partition feed.
  const sys = useSystem('pushhang', {
    ...UNLIMITED, CHAT_PARTITIONS: '1', CHAT_PUSH_WEBHOOK_SECRET: WEBHOOK_SECRET, CHAT_PUSH_ACTIVE_WITHIN: '1h',
    CHAT_PUSH_WEBHOOK_HOSTS: '127.0.0.1', CHAT_PUSH_TIMEOUT: '6s',
  });

  it("does not hold back another user's wake-up, and decides every message once", async () => {
    const hanging = ['hana', 'hugo', 'hedy'];
    for (const user of [...hanging, 'olga', 'pete']) {
      const c = await connectClient(sys().app.url, user);
      await c.ok('push:register', { platform: 'webhook', token: `${hanging.includes(user) ? dead.url : hooks.url}/${user}` });
      c.close();
    }
    await waitFor('five offline', async () => (await query(sys().ns, `SELECT count(*)::int AS n FROM public.user_activity WHERE user_id IN ('hana','hugo','hedy','olga','pete')`))[0]!.n === 5);
    const alice = await sys().connect('alice');
    const { conversation: group } = await alice.ok('conversation:create', { type: 'group', members: hanging });
    const { conversation: toOlga } = await alice.ok('conversation:create', { type: 'direct', members: ['olga'] });
    const { conversation: toPete } = await alice.ok('conversation:create', { type: 'direct', members: ['pete'] });
    const sent = new Map<string, number>(); // conversation -> messages
    const send = async (conversationId: string, id: string) => {
      await alice.ok('message:send', { conversationId, clientMsgId: id, body: 'wake' });
      sent.set(conversationId, (sent.get(conversationId) ?? 0) + 1);
    };

    await send(group.id, 'g0');
    await waitFor('the notifier to be stuck on the dead endpoint', () => dead.accepted >= 1, 20_000);
    await send(toOlga.id, 'o0');
    // Well within one provider timeout (6 s): nothing waited for the dead endpoint.
    await waitFor("olga's wake-up", () => hooks.got.some((r) => r.path === '/olga'), 5_000);

    // More messages while the dead endpoint holds its calls, past the notifier's 10 s ack wait.
    const until = Date.now() + 12_000;
    for (let i = 1; Date.now() < until; i++) {
      await send(group.id, `g${i}`);
      await send(toPete.id, `p${i}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor("pete's wake-up", () => hooks.got.some((r) => r.path === '/pete'), 5_000);

    // Every recipient's every message is decided exactly once, the dead endpoint's included.
    const expected = { hana: sent.get(group.id)!, hugo: sent.get(group.id)!, hedy: sent.get(group.id)!, olga: 1, pete: sent.get(toPete.id)! };
    for (const [user, n] of Object.entries(expected)) {
      await waitFor(`${user}'s ${n} decisions`, async () => (await decisionsOf(sys().app.url, user)).length >= n, 60_000, 250);
    }
    // Redeliveries would come after the ack wait; give them the time to show.
    await new Promise((r) => setTimeout(r, 11_000));
    for (const [user, n] of Object.entries(expected)) {
      const decisions = await decisionsOf(sys().app.url, user);
      expect({ user, seqs: new Set(decisions.map((d) => d.seq)).size, decisions: decisions.length }).toEqual({ user, seqs: n, decisions: n });
    }
    for (const user of hanging) {
      const decisions = await decisionsOf(sys().app.url, user);
      expect(decisions.filter((d) => d.decision === 'failed')).toEqual([expect.objectContaining({ detail: expect.stringMatching(/timeout|circuit_open/) })]);
      expect(decisions.filter((d) => d.decision !== 'failed').every((d) => d.decision === 'coalesced')).toBe(true);
    }
    expect(hooks.got.filter((r) => r.path === '/olga')).toHaveLength(1);
    expect(hooks.got.filter((r) => r.path === '/pete')).toHaveLength(1);
  });
});
