import { sendWithRetry } from './retry';
import { verifyWebhookSignature, WebhookProvider } from './webhook.provider';
import { createHmac } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GuardedHttp } from './guarded.http';
import { closedPort, useHttp1Fake, SECRET_TEXT, sleepStub, wakeUp, WIRE_CONVERSATIONS } from './loopback.support.spec';

describe('WebhookProvider against a loopback receiver', () => {
  const secret = 'whsec_test';
  const fake = useHttp1Fake();

  afterEach(() => jest.restoreAllMocks());

  it('POSTs a signed wake-up carrying ids and counts only', async () => {
    const provider = new WebhookProvider(secret, { now: () => 1_700_000_000_500 });
    fake().reply('/hook', { status: 204 });

    expect(await provider.send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'sent' });

    expect(fake().seen).toHaveLength(1);
    const [req] = fake().seen;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-chat-timestamp']).toBe('1700000000');
    const signature = String(req.headers['x-chat-signature']);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(secret, '1700000000', req.body, signature)).toBe(true);
    expect(verifyWebhookSignature('other', '1700000000', req.body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, '1700000001', req.body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, '1700000000', req.body.replace('"count":2', '"count":3'), signature)).toBe(false);
    expect(verifyWebhookSignature(secret, '1700000000', req.body, signature.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature(secret, '1700000000', req.body, undefined)).toBe(false);

    expect(JSON.parse(req.body)).toEqual({ type: 'wake', userId: 'u_1', deviceId: 'd_1', conversations: WIRE_CONVERSATIONS, at: '2026-01-01T00:00:00.000Z' });
    expect(JSON.stringify(req)).not.toContain(SECRET_TEXT);
    expect(req.body).not.toContain('SECRET');
  });

  it('lets receivers refuse stale timestamps', () => {
    const sig = `sha256=${createHmac('sha256', secret).update('1000.{}').digest('hex')}`;
    expect(verifyWebhookSignature(secret, 1000, '{}', sig, { toleranceSec: 300, nowSec: 1200 })).toBe(true);
    expect(verifyWebhookSignature(secret, 1000, '{}', sig, { toleranceSec: 300, nowSec: 1301 })).toBe(false);
  });

  it.each([404, 410])('%s -> gone', async (status) => {
    fake().reply('/hook', { status });
    expect(await new WebhookProvider(secret).send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'gone', reason: String(status) });
  });

  it('other 4xx -> failed, and a redirect is not followed', async () => {
    fake().reply('/hook', { status: 400 }, { status: 307, headers: { location: 'http://example.com/elsewhere' } });
    const provider = new WebhookProvider(secret);
    expect(await provider.send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'failed', reason: '400' });
    expect(await provider.send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'failed', reason: '307 redirect not followed' });
    expect(fake().seen).toHaveLength(2);
  });

  it('503 then 200: sent after 2 attempts with exponential backoff', async () => {
    fake().reply('/hook', { status: 503 }, { status: 200 });
    const sleep = sleepStub();
    const result = await sendWithRetry(new WebhookProvider(secret), wakeUp('webhook', fake().url('/hook')), { sleep });
    expect(result).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[200]]);
    expect(fake().seen).toHaveLength(2);
  });

  it('429 with Retry-After: the wait is what the receiver asked for', async () => {
    fake().reply('/hook', { status: 429, headers: { 'retry-after': '7' } }, { status: 200 });
    const provider = new WebhookProvider(secret);
    expect(await provider.send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'retry', reason: '429', afterMs: 7000 });
    fake().reset();
    fake().reply('/hook', { status: 429, headers: { 'retry-after': '7' } }, { status: 200 });
    const sleep = sleepStub();
    expect(await sendWithRetry(provider, wakeUp('webhook', fake().url('/hook')), { sleep })).toEqual({ kind: 'sent', attempts: 2 });
    expect(sleep.mock.calls).toEqual([[7000]]);
  });

  it('refuses URLs that are neither https nor loopback http, without any request', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const provider = new WebhookProvider(secret);
    for (const url of [
      'http://example.com/hook',
      'http://10.0.0.5/hook',
      'http://127.0.0.1.example.com/hook',
      'http://[::ffff:10.0.0.1]/hook',
      'ftp://127.0.0.1/hook',
      'not a url',
      `http://user:pw@127.0.0.1:1/hook`,
    ]) {
      const r = await provider.send(wakeUp('webhook', url));
      expect(r.kind).toBe('failed');
    }
    const strict = new WebhookProvider(secret, { allowLoopbackHttp: false });
    expect((await strict.send(wakeUp('webhook', fake().url('/hook')))).kind).toBe('failed');
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(fake().seen).toHaveLength(0);
  });

  it('a network error -> retry', async () => {
    const port = await closedPort();
    const r = await new WebhookProvider(secret).send(wakeUp('webhook', `http://127.0.0.1:${port}/hook`));
    expect(r).toMatchObject({ kind: 'retry' });
    expect(r.kind === 'retry' && r.reason).toMatch(/^network: /);
  });

  it('a receiver that accepts the connection and never answers costs one timeout, then retry', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const provider = new WebhookProvider(secret, { timeoutMs: 300 });
      expect(await provider.send(wakeUp('webhook', `http://127.0.0.1:${port}/hook`))).toEqual({ kind: 'retry', reason: 'network: timeout' });
      expect(sockets).toHaveLength(1);
      provider.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('sends only to the allowed hosts, and refuses loopback names at connect time where loopback is not allowed', async () => {
    fake().reply('/hook', { status: 200 });
    const listed = new WebhookProvider(secret, { allowedHosts: ['127.0.0.1'] });
    expect(await listed.send(wakeUp('webhook', fake().url('/hook')))).toEqual({ kind: 'sent' });
    const unlisted = new WebhookProvider(secret, { allowedHosts: ['hooks.example.com'] });
    expect(await unlisted.send(wakeUp('webhook', fake().url('/hook')))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/not among the allowed push hosts/) });
    const none = new WebhookProvider(secret, { allowedHosts: [] });
    expect((await none.send(wakeUp('webhook', fake().url('/hook')))).kind).toBe('failed');
    expect(fake().seen).toHaveLength(1);

    // The lookup itself: `localhost` resolves to loopback, which this request may not reach.
    const http = new GuardedHttp();
    const url = new URL(fake().url('/hook').replace('127.0.0.1', 'localhost'));
    expect(await http.post({ url, headers: {}, body: '{}', timeoutMs: 2000, allowLoopback: false, loopbackOnly: false })).toEqual({
      error: expect.stringMatching(/^refused address: localhost resolves to (127\.0\.0\.1|::1) is a loopback address$/), refused: true,
    });
    expect(await http.post({ url, headers: {}, body: '{}', timeoutMs: 2000, allowLoopback: true, loopbackOnly: true })).toMatchObject({ status: 200 });
    expect(fake().seen).toHaveLength(2);
    for (const p of [listed, unlisted, none]) p.close();
    http.close();
  });
});
