import { decodeProtectedHeader, jwtVerify } from 'jose';
import { ApnsProvider } from './apns.provider';
import { sendWithRetry } from './retry';
import { closedPort, ecKeys, Http2Fake, SECRET_TEXT, sleepStub, wakeUp, WIRE_CONVERSATIONS } from './loopback.support.spec';

describe('ApnsProvider against a loopback HTTP/2 (h2c) server', () => {
  const keys = ecKeys();
  const TOKEN = 'a1b2c3d4'.repeat(8);
  const PATH = `/3/device/${TOKEN}`;
  let server: Http2Fake;
  const providers: ApnsProvider[] = [];

  beforeAll(async () => {
    server = await Http2Fake.start();
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await server.close();
  });
  beforeEach(() => server.reset());

  function provider(opts: { now?: () => number; endpoint?: string } = {}): ApnsProvider {
    const p = new ApnsProvider({ teamId: 'TEAM123456', keyId: 'KEY1234567', privateKeyPem: keys.privatePem, bundleId: 'com.example.chat', endpoint: opts.endpoint ?? server.url(), now: opts.now });
    providers.push(p);
    return p;
  }
  const bearer = (i: number) => String(server.seen[i].headers.authorization).replace(/^bearer /, '');

  it('POSTs a background push with a provider JWT, ids and counts only', async () => {
    const now = 1_700_000_000_000;
    expect(await provider({ now: () => now }).send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });

    expect(server.seen).toHaveLength(1);
    const [req] = server.seen;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(PATH);
    expect(req.headers['apns-topic']).toBe('com.example.chat');
    expect(req.headers['apns-push-type']).toBe('background');
    expect(req.headers['apns-priority']).toBe('5');
    expect(String(req.headers.authorization)).toMatch(/^bearer /);
    const jwt = bearer(0);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload } = await jwtVerify(jwt, keys.publicKey, { algorithms: ['ES256'], issuer: 'TEAM123456', currentDate: new Date(now) });
    expect(payload).toEqual({ iss: 'TEAM123456', iat: now / 1000 });

    expect(JSON.parse(req.body)).toEqual({ aps: { 'content-available': 1 }, type: 'wake', conversations: WIRE_CONVERSATIONS });
    expect(req.body).not.toContain('SECRET');
    expect(JSON.stringify(server.seen)).not.toContain(SECRET_TEXT);
  });

  it('reuses one session, and the provider JWT for 20 minutes', async () => {
    let now = 1_700_000_000_000;
    const p = provider({ now: () => now });
    const before = server.sessionCount;
    await p.send(wakeUp('apns', TOKEN));
    now += 19 * 60_000;
    await p.send(wakeUp('apns', TOKEN));
    now += 60_000;
    await p.send(wakeUp('apns', TOKEN));
    expect(server.sessionCount - before).toBe(1);
    expect(bearer(0)).toBe(bearer(1));
    expect(bearer(2)).not.toBe(bearer(1));
    expect((await jwtVerify(bearer(2), keys.publicKey, { currentDate: new Date(now) })).payload.iat).toBe(now / 1000);
  });

  it('reconnects when the session closes', async () => {
    const p = provider();
    const before = server.sessionCount;
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });
    await server.dropSessions();
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });
    expect(server.sessionCount - before).toBe(2);
  });

  it('410, and 400 BadDeviceToken/Unregistered -> gone; other 4xx -> failed', async () => {
    const p = provider();
    server.reply(PATH, { status: 410, body: { reason: 'Unregistered', timestamp: 1700000000000 } });
    server.reply(PATH, { status: 400, body: { reason: 'BadDeviceToken' } }, { status: 400, body: { reason: 'Unregistered' } });
    server.reply(PATH, { status: 400, body: { reason: 'DeviceTokenNotForTopic' } }, { status: 403, body: { reason: 'InvalidProviderToken' } });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'gone', reason: 'Unregistered' });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'gone', reason: 'BadDeviceToken' });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'gone', reason: 'Unregistered' });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'failed', reason: '400 DeviceTokenNotForTopic' });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'failed', reason: '403 InvalidProviderToken' });
  });

  it('403 ExpiredProviderToken: signs a fresh JWT and sends again once', async () => {
    let now = 1_700_000_000_000;
    const p = provider({ now: () => now });
    await p.send(wakeUp('apns', TOKEN));
    now += 1000;
    server.reply(PATH, { status: 403, body: { reason: 'ExpiredProviderToken' } });
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });
    expect(server.seen).toHaveLength(3);
    expect(bearer(1)).toBe(bearer(0));
    expect(bearer(2)).not.toBe(bearer(1));
  });

  it('503 then 200: sent after 2 attempts', async () => {
    server.reply(PATH, { status: 503, body: { reason: 'ServiceUnavailable' } });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('apns', TOKEN), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[200]]);
    expect(server.seen).toHaveLength(2);
  });

  it('429 with Retry-After is honoured', async () => {
    server.reply(PATH, { status: 429, headers: { 'retry-after': '5' }, body: { reason: 'TooManyRequests' } });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('apns', TOKEN), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[5000]]);
  });

  it('refuses a token that is not hex, without a request', async () => {
    expect(await provider().send(wakeUp('apns', '../../other/path'))).toEqual({ kind: 'failed', reason: 'invalid device token' });
    expect(server.seen).toHaveLength(0);
  });

  it('an unreachable endpoint -> retry', async () => {
    const p = provider({ endpoint: `http://127.0.0.1:${await closedPort()}` });
    const r = await p.send(wakeUp('apns', TOKEN));
    expect(r).toMatchObject({ kind: 'retry' });
    expect(r.kind === 'retry' && r.reason).toMatch(/^network: /);
  });

  it('close() ends the session; later sends are refused', async () => {
    const p = provider();
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'sent' });
    await p.close();
    expect(await p.send(wakeUp('apns', TOKEN))).toEqual({ kind: 'failed', reason: 'provider closed' });
    expect(server.seen).toHaveLength(1);
    await p.close(); // idempotent
  });
});
