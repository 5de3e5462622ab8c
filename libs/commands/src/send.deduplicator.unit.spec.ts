import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { ChatError } from '@chat/contracts';
import type { MessageSent } from '@chat/domain';
import { Names, type ProjectionWatch } from '@chat/messaging';
import type { ReadModelRepository, SentMessage } from '@chat/storage';
import { SendDeduplicator } from './send.deduplicator';

const names = new Names('t', 1);
const at = '2026-01-01T00:00:00.000Z';
const sent = (clientMsgId: string, senderId = 'ann'): MessageSent => ({ type: 'MessageSent', v: 1, conversationId: 'd_1', senderId, clientMsgId, body: 'b', at });

/** A log, a read model and a projection watch the test controls. */
function setUp(opts: { stored?: Record<string, SentMessage>; reached?: number; entryTimes?: Record<number, number>; lookupGate?: Promise<void>; onceProjected?: (stored: Record<string, SentMessage>) => void } = {}) {
  const calls: string[] = [];
  let lastSeq = 10;
  const window = new Map<string, number>();
  const entries = new Map<number, string>();
  const js = {
    publish: async (_subject: string, data: string, o: { msgID: string }) => {
      calls.push(`publish ${o.msgID}`);
      const dup = window.get(o.msgID);
      if (dup !== undefined) return { seq: dup, duplicate: true };
      window.set(o.msgID, ++lastSeq);
      entries.set(lastSeq, data);
      return { seq: lastSeq, duplicate: false };
    },
  } as unknown as JetStreamClient;
  const jsm = {
    streams: {
      getMessage: async (_stream: string, { seq }: { seq: number }) => ({
        time: new Date(opts.entryTimes?.[seq] ?? 0),
        json: () => JSON.parse(entries.get(seq) ?? JSON.stringify({ conversationId: 'd_1', at })),
      }),
    },
  } as unknown as JetStreamManager;
  const stored = { ...(opts.stored ?? {}) };
  let lookups = 0;
  const readModel = {
    sentMessages: async (pairs: Array<{ senderId: string; clientMsgId: string }>) => {
      lookups++;
      calls.push(`lookup ${pairs.length}`);
      await opts.lookupGate;
      calls.push('lookup answered');
      return new Map(pairs.flatMap((p) => (stored[p.clientMsgId] ? [[`${p.senderId}\n${p.clientMsgId}`, stored[p.clientMsgId]!] as const] : [])));
    },
  } as unknown as ReadModelRepository;
  const waits: number[] = [];
  const watch = {
    reached: () => opts.reached ?? lastSeq,
    waitFor: async (_p: number, seq: number) => {
      waits.push(seq);
      opts.onceProjected?.(stored);
      return true;
    },
  } as unknown as ProjectionWatch;
  const dedup = new SendDeduplicator(js, jsm, names, watch, readModel, 1_000);
  return {
    dedup, calls, stored, waits, lookups: () => lookups, forgetWindow: () => window.clear(),
    /** The window names `seq` for this msg id, whatever the entry there is. */
    staleWindow: (msgId: string, seq: number) => window.set(msgId, seq),
  };
}

describe('SendDeduplicator', () => {
  it('publishes a new send at once, its read-model lookup beside the publish, not before it', async () => {
    let answerLookup: () => void = () => undefined;
    const { dedup, calls } = setUp({ lookupGate: new Promise<void>((r) => (answerLookup = r)) });
    const answer = dedup.send(0, sent('m1'), 'gw/s');
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['lookup 1', `publish ${names.sendMsgId('ann', 'm1')}`]);
    answerLookup();
    expect(await answer).toEqual({ seq: 11, sentAt: at });
  });

  it('answers a resend inside JetStream\'s window with the original, and one long after from the read model', async () => {
    const { dedup, stored, forgetWindow } = setUp();
    const first = await dedup.send(0, sent('m1'), 'gw/s');
    expect(await dedup.send(0, sent('m1'), 'gw/s')).toEqual({ seq: first.seq, sentAt: at, duplicate: true });
    forgetWindow();
    stored.m1 = { conversationId: 'd_1', seq: first.seq, sentAt: at };
    expect(await dedup.send(0, sent('m1'), 'gw/s')).toEqual({ seq: first.seq, sentAt: at, duplicate: true });
  });

  it('appends again, and acks the new entry, when the window names an entry that is another message (a window that outlived its entry)', async () => {
    const { dedup, calls, staleWindow } = setUp({ onceProjected: (stored) => (stored.m2 = { conversationId: 'd_1', seq: 12, sentAt: at }) });
    const m1 = await dedup.send(0, sent('m1'), 'gw/s');
    // After a partition healed: the window still maps m2 to the seq where m1 now is.
    staleWindow(names.sendMsgId('ann', 'm2'), m1.seq);
    const m2 = await dedup.send(0, sent('m2'), 'gw/s');
    expect(m2).toEqual({ seq: 12, sentAt: at });
    expect(calls.filter((c) => c.startsWith('publish'))).toEqual([
      `publish ${names.sendMsgId('ann', 'm1')}`,
      `publish ${names.sendMsgId('ann', 'm2')}`,
      `publish ${names.sendAgainMsgId('ann', 'm2', m1.seq)}`,
    ]);
    // A resend finds the window stale again, and the copy appended again is the answer once more.
    expect(await dedup.send(0, sent('m2'), 'gw/s')).toEqual({ seq: 12, sentAt: at, duplicate: true });
  });

  it('refuses a clientMsgId the sender used in another conversation', async () => {
    const { dedup } = setUp({ stored: { m1: { conversationId: 'd_2', seq: 3, sentAt: at } } });
    await expect(dedup.send(0, sent('m1'), 'gw/s')).rejects.toEqual(expect.objectContaining({ code: 'BAD_REQUEST' }));
    await expect(dedup.send(0, sent('m1'), 'gw/s')).rejects.toBeInstanceOf(ChatError);
  });

  it('refuses a clientMsgId used in a conversation of another partition, whose seq is past this one\'s', async () => {
    // Seqs of different streams: the original's 50 in partition 1 says nothing of this send's 11 in partition 0.
    const { dedup } = setUp({ stored: { m1: { conversationId: 'd_2', seq: 50, sentAt: at } } });
    await expect(dedup.send(0, sent('m1'), 'gw/s')).rejects.toEqual(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('waits for a projection that lags past half the window, then finds the original the lookup could not see', async () => {
    // The projection reached seq 5; entries 6.. are more than half the window older than the new one.
    // The original (seq 7) reaches the read model only once the projection catches up.
    const { dedup, waits } = setUp({ reached: 5, entryTimes: { 6: 0, 11: 600 }, onceProjected: (stored) => (stored.late = { conversationId: 'd_1', seq: 7, sentAt: at }) });
    expect(await dedup.send(0, sent('late'), 'gw/s')).toEqual({ seq: 7, sentAt: at, duplicate: true });
    expect(waits).toEqual([10]);
  });

  it('does not wait when the unprojected stretch of the log is younger than half the window', async () => {
    const { dedup, waits } = setUp({ reached: 5, entryTimes: { 6: 0, 11: 100 } });
    expect(await dedup.send(0, sent('fresh'), 'gw/s')).toEqual({ seq: 11, sentAt: at });
    expect(waits).toEqual([]);
  });

  it('shares read-model lookups between the sends of a burst', async () => {
    const { dedup, lookups } = setUp();
    await Promise.all(Array.from({ length: 50 }, (_, i) => dedup.send(0, sent(`b${i}`), 'gw/s')));
    expect(lookups()).toBeLessThanOrEqual(3);
  });
});
