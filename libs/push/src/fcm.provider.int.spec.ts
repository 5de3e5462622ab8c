import { decodeProtectedHeader, jwtVerify } from 'jose';
import { FCM_SCOPE, FcmProvider } from './fcm.provider';
import { sendWithRetry } from './retry';
import { useHttp1Fake, rsaKeys, SECRET_TEXT, sleepStub, wakeUp, WIRE_CONVERSATIONS, type Seen } from './loopback.support.spec';

describe('FcmProvider against a loopback OAuth server and FCM v1', () => {
  const keys = rsaKeys();
  const SEND = '/v1/projects/proj-1/messages:send';
  const fake = useHttp1Fake();
  let issued = 0;

  beforeEach(() => {
    issued = 0;
    fake().otherwise('/token', () => ({ status: 200, body: { access_token: `tok-${++issued}`, expires_in: 3600, token_type: 'Bearer' } }));
    fake().otherwise(SEND, { status: 200, body: { name: 'projects/proj-1/messages/1' } });
  });

  function provider(now?: () => number): FcmProvider {
    return new FcmProvider({ projectId: 'proj-1', clientEmail: 'push@proj-1.iam.gserviceaccount.com', privateKeyPem: keys.privatePem, tokenUrl: fake().url('/token'), endpoint: fake().url(), now });
  }
  const unregistered = (status: number) => ({
    status,
    body: { error: { code: status, message: 'Requested entity was not found.', status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } },
  });
  const authorizations = () => fake().on(SEND).map((s: Seen) => s.headers.authorization);

  it('exchanges a service-account JWT for an access token, then sends a data-only wake-up', async () => {
    expect(await provider().send(wakeUp('fcm', 'device-token-1'))).toEqual({ kind: 'sent' });

    const [tokenReq] = fake().on('/token');
    expect(tokenReq.method).toBe('POST');
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokenReq.body);
    expect([...form.keys()].sort()).toEqual(['assertion', 'grant_type']);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const assertion = form.get('assertion') ?? '';
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, keys.publicKey, { algorithms: ['RS256'], issuer: 'push@proj-1.iam.gserviceaccount.com', audience: fake().url('/token') });
    expect(payload.scope).toBe(FCM_SCOPE);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    const [sendReq] = fake().on(SEND);
    expect(sendReq.method).toBe('POST');
    expect(sendReq.headers.authorization).toBe('Bearer tok-1');
    expect(sendReq.headers['content-type']).toBe('application/json');
    const body = JSON.parse(sendReq.body);
    expect(body).toEqual({ message: { token: 'device-token-1', data: { type: 'wake', conversations: JSON.stringify(WIRE_CONVERSATIONS) }, android: { priority: 'HIGH' } } });
    expect(JSON.parse(body.message.data.conversations)).toEqual(WIRE_CONVERSATIONS);
    expect(sendReq.body).not.toContain('SECRET');
    expect(JSON.stringify(fake().seen)).not.toContain(SECRET_TEXT);
  });

  it('caches the access token across sends until 60 s before it expires', async () => {
    let now = 1_700_000_000_000;
    const p = provider(() => now);
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'sent' });
    expect(await p.send(wakeUp('fcm', 'b'))).toEqual({ kind: 'sent' });
    now += (3600 - 61) * 1000;
    expect(await p.send(wakeUp('fcm', 'c'))).toEqual({ kind: 'sent' });
    expect(fake().on('/token')).toHaveLength(1);
    now += 2000; // now within 60 s of expires_in
    expect(await p.send(wakeUp('fcm', 'd'))).toEqual({ kind: 'sent' });
    expect(fake().on('/token')).toHaveLength(2);
    expect(authorizations()).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('concurrent sends share one token exchange', async () => {
    const p = provider();
    const results = await Promise.all([1, 2, 3].map((i) => p.send(wakeUp('fcm', `t${i}`))));
    expect(results).toEqual([{ kind: 'sent' }, { kind: 'sent' }, { kind: 'sent' }]);
    expect(fake().on('/token')).toHaveLength(1);
  });

  it('401: refreshes the token once and sends again', async () => {
    const p = provider();
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'sent' });
    fake().reply(SEND, { status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
    expect(await p.send(wakeUp('fcm', 'b'))).toEqual({ kind: 'sent' });
    expect(fake().on('/token')).toHaveLength(2);
    expect(authorizations()).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    // the refreshed token is the cached one now
    expect(await p.send(wakeUp('fcm', 'c'))).toEqual({ kind: 'sent' });
    expect(fake().on('/token')).toHaveLength(2);
    expect(authorizations()[3]).toBe('Bearer tok-2');
  });

  it('401 twice: failed, not a loop', async () => {
    fake().reply(SEND, { status: 401 }, { status: 401 });
    expect(await provider().send(wakeUp('fcm', 'a'))).toEqual({ kind: 'failed', reason: '401' });
    expect(fake().on(SEND)).toHaveLength(2);
    expect(fake().on('/token')).toHaveLength(2);
  });

  it('UNREGISTERED (400 or 404) and a plain 404 -> gone; other 4xx -> failed', async () => {
    const p = provider();
    fake().reply(SEND, unregistered(404), unregistered(400), { status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } });
    fake().reply(SEND, { status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', details: [{ errorCode: 'INVALID_ARGUMENT' }] } } });
    fake().reply(SEND, { status: 403, body: { error: { code: 403, status: 'PERMISSION_DENIED', details: [{ errorCode: 'SENDER_ID_MISMATCH' }] } } });
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'gone', reason: 'UNREGISTERED' });
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'gone', reason: 'UNREGISTERED' });
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'gone', reason: '404 NOT_FOUND' });
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'failed', reason: '400 INVALID_ARGUMENT' });
    expect(await p.send(wakeUp('fcm', 'a'))).toEqual({ kind: 'failed', reason: '403 SENDER_ID_MISMATCH' });
  });

  it('410 -> gone', async () => {
    fake().reply(SEND, { status: 410 });
    expect(await provider().send(wakeUp('fcm', 'a'))).toEqual({ kind: 'gone', reason: '410 GONE' });
  });

  it('503 then 200: sent after 2 attempts', async () => {
    fake().reply(SEND, { status: 503, body: { error: { code: 503, status: 'UNAVAILABLE' } } });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('fcm', 'a'), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[200]]);
    expect(fake().on(SEND)).toHaveLength(2);
  });

  it('429 with Retry-After is honoured', async () => {
    fake().reply(SEND, { status: 429, headers: { 'retry-after': '12' }, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ errorCode: 'QUOTA_EXCEEDED' }] } } });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('fcm', 'a'), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[10_000]]); // 12 s asked, capped at 10 s
    fake().reply(SEND, { status: 429, headers: { 'retry-after': '3' } });
    expect(await provider().send(wakeUp('fcm', 'a'))).toEqual({ kind: 'retry', reason: '429', afterMs: 3000 });
  });

  it('token endpoint: 5xx -> retry, invalid_grant -> failed, nothing sent', async () => {
    fake().reply('/token', { status: 500 }, { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } });
    expect(await provider().send(wakeUp('fcm', 'a'))).toEqual({ kind: 'retry', reason: 'token: 500' });
    expect(await provider().send(wakeUp('fcm', 'a'))).toEqual({ kind: 'failed', reason: 'token: 400 invalid_grant' });
    expect(fake().on(SEND)).toHaveLength(0);
  });

  it('refuses a plain-http endpoint that is not loopback at construction', () => {
    expect(() => new FcmProvider({ projectId: 'p', clientEmail: 'e', privateKeyPem: keys.privatePem, tokenUrl: 'http://oauth.example.com/token', endpoint: fake().url() })).toThrow(/tokenUrl/);
  });
});
