import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '@chat/push';
import { hookOf } from './hook';
import { retryDelayMs, WebhookClient } from './webhook.client';

const SECRET = 'client-test-secret-0123456789';
const hook = hookOf('g_abc', 42, { type: 'message:deleted', conversationId: 'g_abc', seq: 42, targetSeq: 40 });

/** A local receiver that answers each request with `handler`. */
async function receiver(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const got: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    got,
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('WebhookClient', () => {
  const clients: WebhookClient[] = [];
  const client = (url: string, timeoutMs = 2_000) => {
    const c = new WebhookClient({ url, secret: SECRET, timeoutMs, allowLoopback: true, now: () => 1_750_000_000_000 });
    clients.push(c);
    return c;
  };
  afterAll(() => clients.forEach((c) => c.close()));

  it('POSTs the hook as JSON, signed over "<timestamp>.<body>", with its id in a header; a 2xx is delivered', async () => {
    const r = await receiver((_req, _body, res) => res.writeHead(204).end());
    try {
      expect(await client(r.url).post(hook)).toEqual({ ok: true, status: 204 });
      const [call] = r.got;
      expect(JSON.parse(call!.body)).toEqual(hook);
      expect(call!.headers).toMatchObject({ 'content-type': 'application/json', 'x-chat-webhook-id': 'g_abc:42', 'x-chat-timestamp': '1750000000' });
      expect(verifyWebhookSignature(SECRET, '1750000000', call!.body, call!.headers['x-chat-signature'] as string)).toBe(true);
      expect(verifyWebhookSignature('another-secret-0123456789', '1750000000', call!.body, call!.headers['x-chat-signature'] as string)).toBe(false);
    } finally {
      await r.close();
    }
  });

  it('reports a 4xx, a 5xx with its Retry-After, and a redirect (not followed) as failed', async () => {
    const answers = [
      (res: ServerResponse) => res.writeHead(400).end(),
      (res: ServerResponse) => res.writeHead(503, { 'retry-after': '7' }).end(),
      (res: ServerResponse) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end(),
    ];
    const r = await receiver((_req, _body, res) => answers.shift()!(res));
    try {
      const c = client(r.url);
      expect(await c.post(hook)).toEqual({ ok: false, error: '400' });
      expect(await c.post(hook)).toEqual({ ok: false, error: '503', retryAfterMs: 7_000 });
      expect(await c.post(hook)).toEqual({ ok: false, error: '302 (redirects are not followed)' });
      expect(r.got).toHaveLength(3);
    } finally {
      await r.close();
    }
  });

  it('gives up on a receiver that does not answer after its timeout, and names a refused connection', async () => {
    const r = await receiver(() => undefined); // accepts, reads, never answers
    try {
      const started = Date.now();
      expect(await client(r.url, 300).post(hook)).toEqual({ ok: false, error: 'timeout after 300 ms' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await r.close();
    }
    const refused = await client(r.url).post(hook);
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('refuses a URL the push targets may not name (checked at boot as well)', () => {
    expect(() => new WebhookClient({ url: 'https://10.0.0.1/x', secret: SECRET, timeoutMs: 1000, allowLoopback: true })).toThrow(/CHAT_WEBHOOK_URL: host refused: 10.0.0.1 is a private address/);
    expect(() => new WebhookClient({ url: 'http://127.0.0.1:9/x', secret: SECRET, timeoutMs: 1000, allowLoopback: false })).toThrow(/CHAT_WEBHOOK_URL/);
  });

  it('pauses 0.25 s doubling to 10 s between tries, or as the receiver asks, up to 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelayMs(n))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(retryDelayMs(1, 7_000)).toBe(7_000);
    expect(retryDelayMs(1, 3_600_000)).toBe(60_000);
  });
});
