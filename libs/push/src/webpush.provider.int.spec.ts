import { decodeProtectedHeader, jwtVerify } from 'jose';
import { sendWithRetry } from './retry';
import { WebPushProvider } from './webpush.provider';
import { useHttp1Fake, SECRET_TEXT, sleepStub, vapidKeys, wakeUp } from './loopback.support.spec';

describe('WebPushProvider (VAPID, no payload) against a loopback push service', () => {
  const keys = vapidKeys();
  const subject = 'mailto:ops@example.com';
  const fake = useHttp1Fake();

  afterEach(() => jest.restoreAllMocks());

  const provider = (now?: () => number) => new WebPushProvider({ publicKey: keys.publicKey, privateKey: keys.privateKey, subject, now });
  const subscription = (endpoint: string) => JSON.stringify({ endpoint, keys: { p256dh: 'BPub', auth: 'authsecret' } });
  function vapid(i: number): { t: string; k: string } {
    const m = /^vapid t=([^,\s]+), k=(\S+)$/.exec(String(fake().seen[i].headers.authorization));
    if (!m) throw new Error(`not a vapid header: ${fake().seen[i].headers.authorization}`);
    return { t: m[1], k: m[2] };
  }

  it('POSTs an empty push with a VAPID JWT for the endpoint origin', async () => {
    const now = 1_700_000_000_000;
    fake().reply('/push/sub-1', { status: 201 });
    expect(await provider(() => now).send(wakeUp('webpush', subscription(fake().url('/push/sub-1'))))).toEqual({ kind: 'sent' });

    expect(fake().seen).toHaveLength(1);
    const [req] = fake().seen;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/push/sub-1');
    expect(req.body).toBe('');
    expect(req.headers['content-length']).toBe('0');
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(req.headers.ttl).toBe('60');
    expect(req.headers.urgency).toBe('high');
    const { t, k } = vapid(0);
    expect(k).toBe(keys.publicKey);
    expect(decodeProtectedHeader(t)).toEqual({ typ: 'JWT', alg: 'ES256' });
    // the key built from the raw x/y/d verifies with the generated public key
    const { payload } = await jwtVerify(t, keys.verifyKey, { algorithms: ['ES256'], audience: fake().url(), subject, currentDate: new Date(now) });
    expect(payload).toEqual({ aud: fake().url(), sub: subject, exp: now / 1000 + 12 * 3600 });
    expect(JSON.stringify(fake().seen)).not.toContain(SECRET_TEXT);
    expect(JSON.stringify(fake().seen)).not.toContain('c_1');
  });

  it('reuses the JWT per origin', async () => {
    const p = provider();
    await p.send(wakeUp('webpush', subscription(fake().url('/push/a'))));
    await p.send(wakeUp('webpush', subscription(fake().url('/push/b'))));
    expect(vapid(0).t).toBe(vapid(1).t);
  });

  it.each([404, 410])('%s -> gone', async (status) => {
    fake().reply('/push/x', { status });
    expect(await provider().send(wakeUp('webpush', subscription(fake().url('/push/x'))))).toEqual({ kind: 'gone', reason: String(status) });
  });

  it('other 4xx -> failed', async () => {
    fake().reply('/push/x', { status: 413 });
    expect(await provider().send(wakeUp('webpush', subscription(fake().url('/push/x'))))).toEqual({ kind: 'failed', reason: '413' });
  });

  it('503 then 201: sent after 2 attempts', async () => {
    fake().reply('/push/x', { status: 503 }, { status: 201 });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('webpush', subscription(fake().url('/push/x'))), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[200]]);
  });

  it('429 with Retry-After is honoured', async () => {
    fake().reply('/push/x', { status: 429, headers: { 'retry-after': '4' } }, { status: 201 });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider(), wakeUp('webpush', subscription(fake().url('/push/x'))), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[4000]]);
  });

  it('refuses non-https, non-loopback endpoints and unreadable subscriptions, without any request', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const p = provider();
    for (const token of [subscription('http://push.example.com/x'), subscription('http://192.168.1.2/x'), '{"keys":{}}', 'not json', 'null']) {
      expect((await p.send(wakeUp('webpush', token))).kind).toBe('failed');
    }
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('refuses malformed VAPID keys at construction', () => {
    expect(() => new WebPushProvider({ publicKey: 'AAAA', privateKey: keys.privateKey, subject })).toThrow(/publicKey/);
    expect(() => new WebPushProvider({ publicKey: keys.publicKey, privateKey: 'AAAA', subject })).toThrow(/privateKey/);
    expect(() => new WebPushProvider({ publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'ops@example.com' })).toThrow(/subject/);
  });
});
