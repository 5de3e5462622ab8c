import { checkPushTarget, GuardedHttp, retryAfterMs, signWebhook } from '@chat/push';
import { nakBackoff } from '@chat/messaging';
import type { Hook } from './hook';

/** The answer to one call: a 2xx, or why not (and how long the receiver asked us to wait). */
export type CallOutcome = { ok: true; status: number } | { ok: false; error: string; retryAfterMs?: number };

export interface WebhookClientOptions {
  url: string;
  secret: string;
  /** The whole exchange of one call: connect, answer. */
  timeoutMs: number;
  allowLoopback: boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Retry-After is followed up to this; beyond, the receiver is asked again sooner. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The pause before try `attempt + 1` of one event: 0.25 s doubling to 10 s (a receiver that
 * comes back is called again within 10 s), or the receiver's Retry-After up to 60 s.
 */
export function retryDelayMs(attempt: number, retryAfter?: number): number {
  return retryAfter !== undefined ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : nakBackoff(attempt);
}

/**
 * POSTs hooks to CHAT_WEBHOOK_URL, signed as push webhooks are (`x-chat-timestamp`,
 * `x-chat-signature`), through the push targets' guarded HTTP: the URL's rules were checked
 * at boot, and the addresses a name resolves to are checked at each connect. Redirects are
 * not followed; only a 2xx counts as delivered.
 */
export class WebhookClient {
  private readonly url: URL;
  private readonly loopbackOnly: boolean;
  private readonly http = new GuardedHttp();
  private readonly now: () => number;

  constructor(private readonly opts: WebhookClientOptions) {
    const target = checkPushTarget(opts.url, { allowLoopback: opts.allowLoopback });
    if (!target.ok) throw new Error(`CHAT_WEBHOOK_URL: ${target.reason}`);
    this.url = target.url;
    this.loopbackOnly = target.loopbackOnly;
    this.now = opts.now ?? Date.now;
  }

  async post(hook: Hook): Promise<CallOutcome> {
    const body = JSON.stringify(hook);
    // Signed afresh on every try: receivers may refuse an old timestamp.
    const timestamp = String(Math.floor(this.now() / 1000));
    const res = await this.http.post({
      url: this.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'chat-backend-webhooks',
        'x-chat-webhook-id': hook.id,
        'x-chat-timestamp': timestamp,
        'x-chat-signature': signWebhook(this.opts.secret, timestamp, body),
      },
      body,
      timeoutMs: this.opts.timeoutMs,
      allowLoopback: this.opts.allowLoopback,
      loopbackOnly: this.loopbackOnly,
    });
    if ('error' in res) return { ok: false, error: res.error === 'timeout' ? `timeout after ${this.opts.timeoutMs} ms` : res.error };
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const after = retryAfterMs(res.headers.get('retry-after'));
    const error = res.status >= 300 && res.status < 400 ? `${res.status} (redirects are not followed)` : `${res.status}`;
    return after === undefined ? { ok: false, error } : { ok: false, error, retryAfterMs: after };
  }

  close(): void {
    this.http.close();
  }
}
