import * as http2 from 'node:http2';
import { SignJWT, importPKCS8, type KeyLike } from 'jose';
import { DEFAULT_TIMEOUT_MS, classifyStatus, errorText, requireTarget, wireConversations } from './push.http';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface ApnsOptions {
  teamId: string;
  /** Id of the .p8 signing key. */
  keyId: string;
  /** The .p8 key (PKCS8 EC P-256 PEM). */
  privateKeyPem: string;
  /** apns-topic. */
  bundleId: string;
  /** Default https://api.push.apple.com (sandbox: https://api.sandbox.push.apple.com). `http:` loopback speaks h2c. */
  endpoint?: string;
  timeoutMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Apple asks for a provider token refreshed no more often than every 20 minutes (and within the hour). */
const PROVIDER_TOKEN_REUSE_MS = 20 * 60 * 1000;
const MAX_BODY_CHARS = 64 * 1024;

type H2Outcome = { status: number; headers: http2.IncomingHttpHeaders; text: string } | { error: string };

/** APNs token auth over one HTTP/2 session per provider (its endpoint), reopened when it closes. */
export class ApnsProvider implements PushProvider {
  readonly platform = 'apns' as const;
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private session?: http2.ClientHttp2Session;
  private closed = false;
  private key?: Promise<KeyLike>;
  private jwt?: { value: string; issuedAt: number };

  constructor(private readonly opts: ApnsOptions) {
    if (!opts.teamId || !opts.keyId || !opts.privateKeyPem || !opts.bundleId) throw new Error('ApnsProvider: teamId, keyId, privateKeyPem and bundleId are required');
    this.origin = requireTarget(opts.endpoint ?? 'https://api.push.apple.com', 'ApnsProvider endpoint').origin;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
  }

  async send(w: WakeUp): Promise<SendResult> {
    if (this.closed) return { kind: 'failed', reason: 'provider closed' };
    // the token goes into :path, so nothing but hex gets there
    if (!/^[0-9a-fA-F]{1,200}$/.test(w.token)) return { kind: 'failed', reason: 'invalid device token' };
    const body = JSON.stringify({ aps: { 'content-available': 1 }, type: 'wake', conversations: wireConversations(w) });
    try {
      let jwt = await this.providerToken();
      let res = await this.request(w.token, jwt, body);
      if (!('error' in res) && res.status === 403 && apnsReason(res.text) === 'ExpiredProviderToken') {
        if (this.jwt?.value === jwt) this.jwt = undefined;
        jwt = await this.providerToken();
        res = await this.request(w.token, jwt, body);
      }
      if ('error' in res) return { kind: 'retry', reason: `network: ${res.error}` };
      return classify(res);
    } catch (e) {
      return { kind: 'failed', reason: errorText(e) };
    }
  }

  /** Ends the HTTP/2 session; later sends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      if (s.closed) s.once('close', () => resolve());
      else s.close(() => resolve());
    });
  }

  private async providerToken(): Promise<string> {
    const now = this.now();
    if (this.jwt && now - this.jwt.issuedAt < PROVIDER_TOKEN_REUSE_MS) return this.jwt.value;
    this.key ??= importPKCS8(this.opts.privateKeyPem, 'ES256');
    let key: KeyLike;
    try {
      key = await this.key;
    } catch (e) {
      this.key = undefined;
      throw new Error(`private key: ${errorText(e)}`);
    }
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.opts.keyId })
      .setIssuer(this.opts.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(key);
    this.jwt = { value, issuedAt: now };
    return value;
  }

  /** A reused session may have died unnoticed: then one more try on a fresh one (a doubled wake-up is harmless). */
  private async request(token: string, jwt: string, body: string): Promise<H2Outcome> {
    const first = this.acquire();
    const res = await this.exchange(first.session, token, jwt, body);
    if ('error' in res && !first.fresh && !this.closed) {
      if (this.session === first.session) this.session = undefined;
      if (!first.session.destroyed) first.session.destroy();
      return this.exchange(this.acquire().session, token, jwt, body);
    }
    return res;
  }

  private acquire(): { session: http2.ClientHttp2Session; fresh: boolean } {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return { session: s, fresh: false };
    const session = http2.connect(this.origin);
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget); // without a listener an unreachable APNs would crash the process
    session.on('goaway', forget); // node closes the session itself after a GOAWAY
    session.on('close', forget);
    this.session = session;
    return { session, fresh: true };
  }

  private exchange(session: http2.ClientHttp2Session, token: string, jwt: string, body: string): Promise<H2Outcome> {
    return new Promise<H2Outcome>((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ':method': 'POST',
          ':path': `/3/device/${token}`,
          authorization: `bearer ${jwt}`,
          'apns-topic': this.opts.bundleId,
          'apns-push-type': 'background',
          'apns-priority': '5',
          'content-type': 'application/json',
        });
      } catch (e) {
        resolve({ error: errorText(e) });
        return;
      }
      let status = 0;
      let headers: http2.IncomingHttpHeaders = {};
      let text = '';
      const done = () => resolve(status ? { status, headers, text } : { error: `stream closed without a response (code ${stream.rstCode ?? 0})` });
      stream.setEncoding('utf8');
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = h;
      });
      stream.on('data', (chunk: string) => {
        if (text.length < MAX_BODY_CHARS) text += chunk;
      });
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', (e) => resolve({ error: errorText(e) }));
      stream.setTimeout(this.timeoutMs, () => {
        resolve({ error: 'timeout' });
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.end(body);
    });
  }
}

function apnsReason(text: string): string {
  try {
    const j = JSON.parse(text) as { reason?: unknown };
    return typeof j.reason === 'string' ? j.reason : '';
  } catch {
    return '';
  }
}

function classify(res: { status: number; headers: http2.IncomingHttpHeaders; text: string }): SendResult {
  const reason = apnsReason(res.text);
  if (res.status === 410) return { kind: 'gone', reason: reason || '410' };
  if (res.status === 400 && (reason === 'BadDeviceToken' || reason === 'Unregistered')) return { kind: 'gone', reason };
  return classifyStatus(res.status, res.headers['retry-after'], reason);
}
