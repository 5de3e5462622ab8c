import type { SendResult, WakeUp } from './push.types';

/** Internal helpers shared by the providers (not exported from the lib's index). */

/** Per request: a provider that has not answered by then is a failed try (CHAT_PUSH_TIMEOUT sets it for every provider). */
export const DEFAULT_TIMEOUT_MS = 5_000;
export const MAX_BODY_BYTES = 64 * 1024;

export type TargetCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** 127.0.0.0/8, localhost, [::1] (hostnames as WHATWG URL normalises them). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost' || h === '[::1]') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m[1] === '127' && m.slice(2).every((o) => Number(o) <= 255);
}

/** Only `https:` URLs, or `http:` to a loopback host; no userinfo. For endpoints the operator configures (users' targets: push.target.ts). */
export function checkTarget(raw: string, allowLoopbackHttp = true): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid url' };
  }
  if (url.username || url.password) return { ok: false, reason: 'url with credentials refused' };
  if (url.protocol === 'https:') return { ok: true, url };
  if (url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname)) return { ok: true, url };
  return { ok: false, reason: `refused url (${url.protocol}//${url.hostname}): only https or loopback http` };
}

/** Same rule for configured endpoints: a bad config is a startup error, not a per-send result. */
export function requireTarget(raw: string, what: string): URL {
  const c = checkTarget(raw);
  if (!c.ok) throw new Error(`${what}: ${c.reason}`);
  return c.url;
}

/** Retry-After as delay-seconds (or an HTTP date), in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 2xx sent, 429/5xx retry, everything else failed; callers decide `gone` first. */
export function classifyStatus(status: number, retryAfter: string | string[] | null | undefined, detail = ''): SendResult {
  const reason = detail ? `${status} ${detail}` : String(status);
  if (status >= 200 && status < 300) return { kind: 'sent' };
  if (status === 429 || status >= 500) {
    const afterMs = retryAfterMs(retryAfter);
    return afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, afterMs };
  }
  if (status >= 300 && status < 400) return { kind: 'failed', reason: `${reason} redirect not followed` };
  return { kind: 'failed', reason };
}

/** Only ids and counts leave the process, whatever else the caller's objects carry. */
export function wireConversations(w: WakeUp): Array<{ conversationId: string; count: number }> {
  return w.conversations.map((c) => ({ conversationId: String(c.conversationId), count: Number(c.count) }));
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
    if (e.name === 'TimeoutError') return 'timeout';
    return code ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

export type HttpOutcome = { status: number; headers: Headers; text: string } | { error: string };

/** POST with a timeout, no redirects followed, and at most 64 KiB of the answer read. */
export async function post(url: string, headers: Record<string, string>, body: string | Uint8Array, timeoutMs: number): Promise<HttpOutcome> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { error: errorText(e) };
  }
  return { status: res.status, headers: res.headers, text: await readLimited(res) };
}

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = value.subarray(0, MAX_BODY_BYTES - size);
      chunks.push(take);
      size += take.length;
      if (size >= MAX_BODY_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // a body cut short still leaves the status to judge by
  }
  return Buffer.concat(chunks).toString('utf8');
}
