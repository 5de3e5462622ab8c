import { SignJWT, importJWK, type KeyLike } from 'jose';
import { GuardedHttp } from './guarded.http';
import { DEFAULT_TIMEOUT_MS, classifyStatus, errorText } from './push.http';
import { checkPushTarget } from './push.target';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface WebPushOptions {
  /** VAPID public key: base64url of the uncompressed P-256 point (65 bytes, 0x04 || x || y). */
  publicKey: string;
  /** VAPID private key: base64url of the 32-byte scalar d. */
  privateKey: string;
  /** `mailto:...` or an https URL, for the push service to reach the operator. */
  subject: string;
  timeoutMs?: number;
  /** Accept loopback subscription endpoints, `http:` too (default true; see WebhookOptions). Endpoints
   *  are judged by the same address rules as webhooks, with no host list (push services are many). */
  allowLoopbackHttp?: boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

const JWT_LIFETIME_S = 12 * 3600;
/** A VAPID JWT is reused per push-service origin while it has more than this left. */
const JWT_MIN_LEFT_S = 3600;
const MAX_CACHED_AUDIENCES = 256;

/** Web Push (RFC 8030) with VAPID (RFC 8292) and no payload: the wake-up itself is the message. */
export class WebPushProvider implements PushProvider {
  readonly platform = 'webpush' as const;
  private readonly jwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };
  private readonly timeoutMs: number;
  private readonly allowLoopbackHttp: boolean;
  private readonly now: () => number;
  private key?: Promise<KeyLike | Uint8Array>;
  private readonly jwts = new Map<string, { value: string; exp: number }>();
  private readonly http = new GuardedHttp();

  constructor(private readonly opts: WebPushOptions) {
    const pub = Buffer.from(opts.publicKey ?? '', 'base64url');
    if (pub.length !== 65 || pub[0] !== 0x04) throw new Error('WebPushProvider: publicKey must be a base64url uncompressed P-256 point (65 bytes)');
    if (Buffer.from(opts.privateKey ?? '', 'base64url').length !== 32) throw new Error('WebPushProvider: privateKey must be a base64url 32-byte scalar');
    if (!/^mailto:.+/.test(opts.subject ?? '') && !/^https:\/\/.+/.test(opts.subject ?? '')) throw new Error('WebPushProvider: subject must be mailto: or https:');
    this.jwk = { kty: 'EC', crv: 'P-256', x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url'), d: opts.privateKey };
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.allowLoopbackHttp = opts.allowLoopbackHttp ?? true;
    this.now = opts.now ?? Date.now;
  }

  /** The push service (host and port): what a circuit breaker watches. */
  endpointOf(w: WakeUp): string {
    try {
      return `webpush ${new URL(String((JSON.parse(w.token) as { endpoint?: unknown } | null)?.endpoint)).host}`;
    } catch {
      return 'webpush (invalid endpoint)';
    }
  }

  close(): void {
    this.http.close();
  }

  async send(w: WakeUp): Promise<SendResult> {
    let endpoint: unknown;
    try {
      endpoint = (JSON.parse(w.token) as { endpoint?: unknown } | null)?.endpoint;
    } catch {
      return { kind: 'failed', reason: 'subscription is not JSON' };
    }
    if (typeof endpoint !== 'string') return { kind: 'failed', reason: 'subscription without endpoint' };
    const target = checkPushTarget(endpoint, { allowLoopback: this.allowLoopbackHttp });
    if (!target.ok) return { kind: 'failed', reason: target.reason };
    let jwt: string;
    try {
      jwt = await this.vapidJwt(target.url.origin);
    } catch (e) {
      return { kind: 'failed', reason: `vapid: ${errorText(e)}` };
    }
    const res = await this.http.post({
      url: target.url,
      headers: { TTL: '60', Urgency: 'high', Authorization: `vapid t=${jwt}, k=${this.opts.publicKey}` },
      body: new Uint8Array(0),
      timeoutMs: this.timeoutMs,
      allowLoopback: this.allowLoopbackHttp,
      loopbackOnly: target.loopbackOnly,
    });
    if ('error' in res) return res.refused ? { kind: 'failed', reason: res.error } : { kind: 'retry', reason: `network: ${res.error}` };
    if (res.status === 404 || res.status === 410) return { kind: 'gone', reason: String(res.status) };
    return classifyStatus(res.status, res.headers.get('retry-after'));
  }

  private async vapidJwt(audience: string): Promise<string> {
    const nowS = Math.floor(this.now() / 1000);
    const hit = this.jwts.get(audience);
    if (hit && hit.exp - nowS > JWT_MIN_LEFT_S) return hit.value;
    this.key ??= importJWK(this.jwk, 'ES256');
    let key: KeyLike | Uint8Array;
    try {
      key = await this.key;
    } catch (e) {
      this.key = undefined;
      throw e;
    }
    const exp = nowS + JWT_LIFETIME_S;
    const value = await new SignJWT({}).setProtectedHeader({ typ: 'JWT', alg: 'ES256' }).setAudience(audience).setExpirationTime(exp).setSubject(this.opts.subject).sign(key);
    if (this.jwts.size >= MAX_CACHED_AUDIENCES) this.jwts.clear();
    this.jwts.set(audience, { value, exp });
    return value;
  }
}
