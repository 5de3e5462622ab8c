import { createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_TIMEOUT_MS, checkTarget, classifyStatus, post, wireConversations } from './push.http';
import type { PushProvider, SendResult, WakeUp } from './push.types';

export interface WebhookOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Accept `http:` to loopback hosts (default true; turn off in production, where a user-registered
   *  `http://localhost:...` URL would make this server POST to its own local services). */
  allowLoopbackHttp?: boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

function sign(secret: string, timestamp: string, body: string): string {
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
  const expected = Buffer.from(sign(secret, ts, Buffer.isBuffer(body) ? body.toString('utf8') : body), 'utf8');
  const given = Buffer.from(header, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The device token is the URL to POST to; the body says which conversations have news, nothing more. */
export class WebhookProvider implements PushProvider {
  readonly platform = 'webhook' as const;
  private readonly timeoutMs: number;
  private readonly allowLoopbackHttp: boolean;
  private readonly now: () => number;

  constructor(
    private readonly secret: string,
    opts: WebhookOptions = {},
  ) {
    if (!secret) throw new Error('WebhookProvider: empty secret');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.allowLoopbackHttp = opts.allowLoopbackHttp ?? true;
    this.now = opts.now ?? Date.now;
  }

  async send(w: WakeUp): Promise<SendResult> {
    const target = checkTarget(w.token, this.allowLoopbackHttp);
    if (!target.ok) return { kind: 'failed', reason: target.reason };
    const body = JSON.stringify({ type: 'wake', userId: w.userId, deviceId: w.deviceId, conversations: wireConversations(w), at: w.at });
    const timestamp = String(Math.floor(this.now() / 1000));
    const res = await post(
      target.url.href,
      { 'content-type': 'application/json', 'x-chat-timestamp': timestamp, 'x-chat-signature': sign(this.secret, timestamp, body) },
      body,
      this.timeoutMs,
    );
    if ('error' in res) return { kind: 'retry', reason: `network: ${res.error}` };
    if (res.status === 404 || res.status === 410) return { kind: 'gone', reason: String(res.status) };
    return classifyStatus(res.status, res.headers.get('retry-after'));
  }
}
