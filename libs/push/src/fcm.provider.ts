import { SignJWT, importPKCS8, type KeyLike } from 'jose';
import { DEFAULT_TIMEOUT_MS, classifyStatus, post, requireTarget, wireConversations } from './push.http';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmOptions {
  projectId: string;
  /** Service account `client_email`. */
  clientEmail: string;
  /** Service account `private_key` (PKCS8 RSA PEM). */
  privateKeyPem: string;
  /** Default https://oauth2.googleapis.com/token */
  tokenUrl?: string;
  /** Default https://fcm.googleapis.com */
  endpoint?: string;
  timeoutMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

class TokenError extends Error {
  constructor(readonly result: SendResult) {
    super(result.kind === 'sent' ? 'sent' : result.reason);
  }
}

/** FCM HTTP v1, OAuth2 access token from a service-account JWT bearer grant, cached until 60 s before expiry. */
export class FcmProvider implements PushProvider {
  readonly platform = 'fcm' as const;
  private readonly tokenUrl: string;
  private readonly sendUrl: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private key?: Promise<KeyLike>;
  private cached?: { value: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(private readonly opts: FcmOptions) {
    if (!opts.projectId || !opts.clientEmail || !opts.privateKeyPem) throw new Error('FcmProvider: projectId, clientEmail and privateKeyPem are required');
    this.tokenUrl = requireTarget(opts.tokenUrl ?? 'https://oauth2.googleapis.com/token', 'FcmProvider tokenUrl').href;
    const endpoint = requireTarget(opts.endpoint ?? 'https://fcm.googleapis.com', 'FcmProvider endpoint');
    this.sendUrl = `${endpoint.href.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(opts.projectId)}/messages:send`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
  }

  async send(w: WakeUp): Promise<SendResult> {
    const body = JSON.stringify({
      message: { token: w.token, data: { type: 'wake', conversations: JSON.stringify(wireConversations(w)) }, android: { priority: 'HIGH' } },
    });
    try {
      let token = await this.accessToken();
      let res = await this.post(token, body);
      if (!('error' in res) && res.status === 401) {
        this.invalidate(token);
        token = await this.accessToken();
        res = await this.post(token, body);
      }
      if ('error' in res) return { kind: 'retry', reason: `network: ${res.error}` };
      return classify(res.status, res.text, res.headers.get('retry-after'));
    } catch (e) {
      if (e instanceof TokenError) return e.result;
      return { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  private post(token: string, body: string) {
    return post(this.sendUrl, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, this.timeoutMs);
  }

  private invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  /** One exchange at a time: concurrent sends share it. */
  private accessToken(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.value);
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async exchange(): Promise<string> {
    this.key ??= importPKCS8(this.opts.privateKeyPem, 'RS256');
    let key: KeyLike;
    try {
      key = await this.key;
    } catch (e) {
      this.key = undefined;
      throw new TokenError({ kind: 'failed', reason: `private key: ${e instanceof Error ? e.message : String(e)}` });
    }
    const iat = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.opts.clientEmail)
      .setAudience(this.tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key);
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
    const res = await post(this.tokenUrl, { 'content-type': 'application/x-www-form-urlencoded' }, form, this.timeoutMs);
    if ('error' in res) throw new TokenError({ kind: 'retry', reason: `token: network: ${res.error}` });
    if (res.status < 200 || res.status >= 300) {
      const r = classifyStatus(res.status, res.headers.get('retry-after'), oauthError(res.text));
      throw new TokenError(r.kind === 'sent' ? { kind: 'failed', reason: 'token' } : { ...r, reason: `token: ${r.reason}` });
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.text) as typeof parsed;
    } catch {
      throw new TokenError({ kind: 'retry', reason: 'token: unreadable response' });
    }
    if (typeof parsed.access_token !== 'string' || !parsed.access_token) throw new TokenError({ kind: 'retry', reason: 'token: no access_token' });
    const expiresIn = Number(parsed.expires_in);
    const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
    this.cached = { value: parsed.access_token, refreshAt: this.now() + lifetimeMs - 60_000 };
    return parsed.access_token;
  }
}

function oauthError(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    return typeof j.error === 'string' ? j.error : '';
  } catch {
    return '';
  }
}

interface FcmErrorBody {
  error?: { status?: string; message?: string; details?: Array<{ errorCode?: string }> };
}

function classify(status: number, text: string, retryAfter: string | null): SendResult {
  if (status >= 200 && status < 300) return { kind: 'sent' };
  let err: FcmErrorBody['error'];
  try {
    err = (JSON.parse(text) as FcmErrorBody).error;
  } catch {
    err = undefined;
  }
  const codes = Array.isArray(err?.details) ? err.details.map((d) => d?.errorCode).filter((c): c is string => typeof c === 'string') : [];
  if ((status === 400 || status === 404) && codes.includes('UNREGISTERED')) return { kind: 'gone', reason: 'UNREGISTERED' };
  if (status === 404) return { kind: 'gone', reason: `404 ${err?.status ?? 'NOT_FOUND'}` };
  // FCM v1 itself answers 404/UNREGISTERED; a 410 (a proxy, or any HTTP server) means gone all the same
  if (status === 410) return { kind: 'gone', reason: `410 ${err?.status ?? 'GONE'}` };
  return classifyStatus(status, retryAfter, codes[0] ?? err?.status ?? '');
}
