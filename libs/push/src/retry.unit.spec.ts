import { sendWithRetry } from './retry';
import type { PushProvider, SendResult, WakeUp } from './push.types';

const wake: WakeUp = { userId: 'u', deviceId: 'd', platform: 'webhook', token: 't', conversations: [], at: '2026-01-01T00:00:00.000Z' };

function scripted(...results: Array<SendResult | Error>): PushProvider & { calls: number } {
  const p = {
    platform: 'webhook' as const,
    calls: 0,
    async send(): Promise<SendResult> {
      const r = results[Math.min(p.calls++, results.length - 1)];
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return p;
}

describe('sendWithRetry', () => {
  const sleep = () => jest.fn<Promise<void>, [number]>(async () => undefined);

  it('backs off exponentially and returns the last result after the attempts run out', async () => {
    const s = sleep();
    const p = scripted({ kind: 'retry', reason: '503' });
    expect(await sendWithRetry(p, wake, { sleep: s })).toEqual({ kind: 'retry', reason: '503', attempts: 4 });
    expect(p.calls).toBe(4);
    expect(s.mock.calls).toEqual([[200], [400], [800]]);
  });

  it('caps waits at 10 s, Retry-After included', async () => {
    const s = sleep();
    const p = scripted({ kind: 'retry', reason: '429', afterMs: 60_000 }, { kind: 'retry', reason: '503' }, { kind: 'retry', reason: '503' }, { kind: 'sent' });
    expect(await sendWithRetry(p, wake, { sleep: s, baseMs: 4000 })).toEqual({ kind: 'sent', attempts: 4 });
    expect(s.mock.calls).toEqual([[10_000], [8000], [10_000]]);
  });

  it('does not retry gone or failed, and reports a throwing provider as failed', async () => {
    const s = sleep();
    expect(await sendWithRetry(scripted({ kind: 'gone', reason: '410' }), wake, { sleep: s })).toEqual({ kind: 'gone', reason: '410', attempts: 1 });
    expect(await sendWithRetry(scripted({ kind: 'retry', reason: 'x' }, { kind: 'failed', reason: '400' }), wake, { sleep: s })).toEqual({ kind: 'failed', reason: '400', attempts: 2 });
    expect(await sendWithRetry(scripted(new Error('boom')), wake, { sleep: s })).toEqual({ kind: 'failed', reason: 'boom', attempts: 1 });
    expect(await sendWithRetry(scripted({ kind: 'retry', reason: 'x' }), wake, { sleep: s, attempts: 1 })).toEqual({ kind: 'retry', reason: 'x', attempts: 1 });
  });
});
