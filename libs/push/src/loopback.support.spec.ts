/**
 * Test support for the push int specs (named *.spec.ts so the build leaves it out, and not *.int.spec.ts
 * so Jest does not run it by itself): recording loopback servers, keys, and a wake-up carrying text
 * that must never leave the process.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Platform, WakeUp } from './push.types';

export interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}
type Responder = Reply | ((seen: Seen) => Reply);

/** Replies per path: queued ones first, then the path's fallback, then 200 `{}`. */
abstract class RecordingServer {
  readonly seen: Seen[] = [];
  private readonly queues = new Map<string, Responder[]>();
  private readonly fallbacks = new Map<string, Responder>();
  protected port = 0;

  reply(path: string, ...replies: Responder[]): this {
    this.queues.set(path, [...(this.queues.get(path) ?? []), ...replies]);
    return this;
  }

  otherwise(path: string, reply: Responder): this {
    this.fallbacks.set(path, reply);
    return this;
  }

  reset(): void {
    this.seen.length = 0;
    this.queues.clear();
    this.fallbacks.clear();
  }

  on(path: string): Seen[] {
    return this.seen.filter((s) => s.path === path);
  }

  url(path = ''): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  protected answer(seen: Seen): { status: number; headers: Record<string, string>; body: string } {
    this.seen.push(seen);
    const path = seen.path.split('?')[0];
    const r = this.queues.get(path)?.shift() ?? this.fallbacks.get(path) ?? { status: 200, body: {} };
    const reply = typeof r === 'function' ? r(seen) : r;
    const headers = { ...(reply.headers ?? {}) };
    let body = '';
    if (typeof reply.body === 'string') body = reply.body;
    else if (reply.body !== undefined) {
      body = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json';
    }
    return { status: reply.status, headers, body };
  }
}

export class Http1Fake extends RecordingServer {
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = this.answer({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });

  static async start(): Promise<Http1Fake> {
    const s = new Http1Fake();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }
}

/** Cleartext HTTP/2 (h2c), as http2.connect('http://...') speaks it. */
export class Http2Fake extends RecordingServer {
  readonly sessions = new Set<http2.ServerHttp2Session>();
  sessionCount = 0;
  private readonly server = http2.createServer();

  private constructor() {
    super();
    this.server.on('session', (s) => {
      this.sessionCount++;
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    this.server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const a = this.answer({ method: String(headers[':method']), path: String(headers[':path']), headers, body: Buffer.concat(chunks).toString('utf8') });
        stream.respond({ ':status': a.status, ...a.headers });
        stream.end(a.body);
      });
    });
  }

  static async start(): Promise<Http2Fake> {
    const s = new Http2Fake();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  /** Server side drops every open session; resolves once they are closed here. */
  async dropSessions(): Promise<void> {
    await Promise.all(
      [...this.sessions].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('close', () => resolve());
            s.destroy();
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.dropSessions();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }
}

/** A loopback port nobody listens on. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function rsaKeys(): { privatePem: string; publicKey: KeyObject } {
  const k = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { privatePem: k.privateKey, publicKey: createPublicKey(k.publicKey) };
}

export function ecKeys(): { privatePem: string; publicKey: KeyObject } {
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { privatePem: k.privateKey, publicKey: createPublicKey(k.publicKey) };
}

/** VAPID keys as browsers and web-push tooling exchange them (base64url raw point and scalar). */
export function vapidKeys(): { publicKey: string; privateKey: string; verifyKey: KeyObject } {
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = k.privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return { publicKey: point.toString('base64url'), privateKey: jwk.d ?? '', verifyKey: k.publicKey };
}

export const SECRET_TEXT = 'TOP-SECRET message body';
/** What is allowed out: ids and counts. */
export const WIRE_CONVERSATIONS = [
  { conversationId: 'c_1', count: 2 },
  { conversationId: 'c_2', count: 1 },
];

/** A wake-up whose objects also carry message text (as a careless caller might pass them). */
export function wakeUp(platform: Platform, token: string): WakeUp {
  const conversations = [
    { conversationId: 'c_1', count: 2, lastMessage: SECRET_TEXT, preview: SECRET_TEXT },
    { conversationId: 'c_2', count: 1, body: SECRET_TEXT },
  ];
  return Object.assign(
    { userId: 'u_1', deviceId: 'd_1', platform, token, conversations, at: '2026-01-01T00:00:00.000Z' },
    { text: SECRET_TEXT },
  );
}

/** A sleep that records and returns at once. */
export function sleepStub(): jest.Mock<Promise<void>, [number]> {
  return jest.fn<Promise<void>, [number]>(async () => undefined);
}

/**
 * One recording HTTP/1 server for a test file: started before its tests, emptied before
 * each, closed after them. Call inside `describe`; the getter returns the running server.
 */
export function useHttp1Fake(): () => Http1Fake {
  let server: Http1Fake | undefined;
  beforeAll(async () => {
    server = await Http1Fake.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => server!.reset());
  return () => server!;
}
