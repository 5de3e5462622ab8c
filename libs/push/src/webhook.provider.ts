import { createHmac, timingSafeEqual } from 'node:crypto';
import { GuardedHttp } from './guarded.http';
import { DEFAULT_TIMEOUT_MS, classifyStatus, wireConversations } from './push.http';
import { checkPushTarget, type TargetPolicy } from './push.target';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface WebhookOptions {
  /** Per-request timeout, the whole exchange (default 5 s). */
  timeoutMs?: number;
  /** Accept loopback targets, `http:` too (default true; turn off in production, where a user-registered
   *  `http://localhost:...` URL would make this server POST to its own local services). */
  allowLoopbackHttp?: boolean;
  /** The hosts (or `host:port`) a webhook may name (CHAT_PUSH_WEBHOOK_HOSTS); undefined: any public host. */
  allowedHosts?: readonly string[];
  /** Clock in ms (tests). */
  now?: () => number;
}

/**
 * `x-chat-signature` of a call: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`.
 * Push wake-ups and integrator webhooks (apps/webhooks) are signed alike.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Receiver-side check of `x-chat-signature` against `x-chat-timestamp` and the raw body,
 * in constant time. With `toleranceSec`, a timestamp further than that from `nowSec` is refused too.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  body: string | Buffer,
  header: string | undefined | null,
  opts: { toleranceSec?: number; nowSec?: number } = {},
): boolean {
  if (typeof header !== 'string') return false;
  const ts = String(timestamp);
  if (!/^\d+$/.test(ts)) return false;
  if (opts.toleranceSec !== undefined) {
    const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);
    if (Math.abs(nowSec - Number(ts)) > opts.toleranceSec) return false;
  }
  const expected = Buffer.from(signWebhook(secret, ts, Buffer.isBuffer(body) ? body.toString('utf8') : body), 'utf8');
  const given = Buffer.from(header, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The device token is the URL to POST to; the body says which conversations have news, nothing more. */
export class WebhookProvider implements PushProvider {
  readonly platform = 'webhook' as const;
  private readonly timeoutMs: number;
  private readonly policy: TargetPolicy;
  private readonly now: () => number;
  private readonly http = new GuardedHttp();

  constructor(
    private readonly secret: string,
    opts: WebhookOptions = {},
  ) {
    if (!secret) throw new Error('WebhookProvider: empty secret');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.policy = { allowLoopback: opts.allowLoopbackHttp ?? true, ...(opts.allowedHosts && { allowedHosts: opts.allowedHosts }) };
    this.now = opts.now ?? Date.now;
  }

  /** The receiving server (host and port): what a circuit breaker watches. */
  endpointOf(w: WakeUp): string {
    try {
      return `webhook ${new URL(w.token).host}`;
    } catch {
      return 'webhook (invalid url)';
    }
  }

  async send(w: WakeUp): Promise<SendResult> {
    // Checked again here: the rules (or the operator's host list) may have changed since it was registered.
    const target = checkPushTarget(w.token, this.policy);
    if (!target.ok) return { kind: 'failed', reason: target.reason };
    const body = JSON.stringify({ type: 'wake', userId: w.userId, deviceId: w.deviceId, conversations: wireConversations(w), at: w.at });
    const timestamp = String(Math.floor(this.now() / 1000));
    const res = await this.http.post({
      url: target.url,
      headers: { 'content-type': 'application/json', 'x-chat-timestamp': timestamp, 'x-chat-signature': signWebhook(this.secret, timestamp, body) },
      body,
      timeoutMs: this.timeoutMs,
      allowLoopback: this.policy.allowLoopback,
      loopbackOnly: target.loopbackOnly,
    });
    if ('error' in res) return res.refused ? { kind: 'failed', reason: res.error } : { kind: 'retry', reason: `network: ${res.error}` };
    if (res.status === 404 || res.status === 410) return { kind: 'gone', reason: String(res.status) };
    return classifyStatus(res.status, res.headers.get('retry-after'));
  }

  close(): void {
    this.http.close();
  }
}
