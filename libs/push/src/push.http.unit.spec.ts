import { checkTarget, classifyStatus, isLoopbackHost, retryAfterMs } from './push.http';

describe('push target and status rules', () => {
  it('treats 127.0.0.0/8, localhost and [::1] as loopback, nothing else', () => {
    for (const h of ['127.0.0.1', '127.255.3.9', 'localhost', 'LOCALHOST', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['128.0.0.1', '10.0.0.1', '127.0.0.1.example.com', 'example.com', '[::2]', '0.0.0.0', 'localhost.example.com']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('accepts https anywhere and http only to loopback, as URL parsing normalises hosts', () => {
    const ok = (u: string, loop = true) => checkTarget(u, loop).ok;
    expect(ok('https://push.example.com/x')).toBe(true);
    expect(ok('http://127.0.0.1:8080/x')).toBe(true);
    expect(ok('http://127.1/x')).toBe(true); // normalised to 127.0.0.1
    expect(ok('http://0x7f000001/x')).toBe(true); // normalised to 127.0.0.1
    expect(ok('http://localhost/x')).toBe(true);
    expect(ok('http://[::1]:9/x')).toBe(true);
    expect(ok('http://[0:0:0:0:0:0:0:1]/x')).toBe(true); // normalised to [::1]
    expect(ok('http://127.0.0.1/x', false)).toBe(false);
    expect(ok('http://example.com/x')).toBe(false);
    expect(ok('http://2130706433.example.com/x')).toBe(false);
    expect(ok('ws://127.0.0.1/x')).toBe(false);
    expect(ok('https://a:b@example.com/x')).toBe(false);
    expect(ok('')).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(['3'])).toBe(3000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('classifies statuses', () => {
    expect(classifyStatus(201, null)).toEqual({ kind: 'sent' });
    expect(classifyStatus(500, null)).toEqual({ kind: 'retry', reason: '500' });
    expect(classifyStatus(429, '2', 'QUOTA')).toEqual({ kind: 'retry', reason: '429 QUOTA', afterMs: 2000 });
    expect(classifyStatus(403, null)).toEqual({ kind: 'failed', reason: '403' });
  });
});
