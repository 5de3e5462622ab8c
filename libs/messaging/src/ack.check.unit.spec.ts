import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AckCheck, UnverifiedAckError } from './ack.check';
import { TRUST_AFTER } from './ack.suspicion';
import { Names } from './names';

const names = new Names('t', 2);
const STREAM = names.stream(0);
const SUBJECT = names.conversationSubject(0, 'g_a');

/** A stream's entries by seq: msg id and bytes; `broken` seqs throw on read. */
function fakes(entries: Map<number, { msgID?: string; data: string }>, broken = new Set<number>()) {
  const requests: string[] = [];
  let advisory: ((err: Error | null, msg: { subject: string }) => void) | undefined;
  const nc = {
    subscribe: (_subject: string, opts: { callback: typeof advisory }) => {
      advisory = opts.callback;
      return {};
    },
    status: () => ({ async *[Symbol.asyncIterator]() {} }),
    request: (subject: string) => {
      requests.push(subject);
      return Promise.resolve({});
    },
  } as unknown as NatsConnection;
  const jsm = {
    streams: {
      // Every entry is on SUBJECT: next_by_subj is the first entry at or after seq.
      getMessage: async (_stream: string, q: { seq: number; next_by_subj?: string }) => {
        if (broken.has(q.seq)) throw new Error('timeout');
        const seq = q.next_by_subj === undefined ? q.seq : [...entries.keys()].sort((a, b) => a - b).find((s) => s >= q.seq);
        const e = seq === undefined ? undefined : entries.get(seq);
        if (!e) return null;
        return { seq, subject: SUBJECT, header: { get: () => e.msgID ?? '' }, string: () => e.data };
      },
    },
  } as unknown as JetStreamManager;
  const warnings: Array<Record<string, unknown>> = [];
  const check = new AckCheck(nc, jsm, names, { warn: (obj) => warnings.push(obj) });
  return { check, requests, warnings, advise: (stream: string) => advisory!(null, { subject: `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}` }) };
}

describe('AckCheck', () => {
  it('keeps a right ack, and trusts the stream after enough of them', async () => {
    const entries = new Map(Array.from({ length: TRUST_AFTER }, (_, i) => [i + 1, { msgID: `m${i + 1}`, data: '' }]));
    const { check } = fakes(entries);
    expect(check.streamOf(SUBJECT)).toBe(STREAM);
    for (let i = 1; i <= TRUST_AFTER; i++) await expect(check.verify(STREAM, { subject: SUBJECT, data: '', msgID: `m${i}` }, { seq: i, duplicate: false })).resolves.toEqual({ seq: i, duplicate: false });
    expect(check.trusts(STREAM)).toBe(true);
    expect(check.stats.verified).toBe(TRUST_AFTER);
  });

  it('answers an ack one off with the stored seq, warns with both, asks for one stepdown and stays suspect', async () => {
    const entries = new Map([
      [9, { msgID: 'a', data: '' }],
      [10, { msgID: 'b', data: '' }],
    ]);
    const { check, requests, warnings } = fakes(entries);
    await expect(check.verify(STREAM, { subject: SUBJECT, data: '', msgID: 'a' }, { seq: 10, duplicate: false })).resolves.toEqual({ seq: 9, duplicate: false });
    await expect(check.verify(STREAM, { subject: SUBJECT, data: '', msgID: 'b' }, { seq: 11, duplicate: false })).resolves.toEqual({ seq: 10, duplicate: false });
    expect(warnings[0]).toMatchObject({ stream: STREAM, ackedSeq: 10, storedSeq: 9 });
    expect(requests).toEqual([`$JS.API.STREAM.LEADER.STEPDOWN.${STREAM}`]);
    expect(check.stats).toMatchObject({ corrected: 2, stepdowns: 1 });
    expect(check.trusts(STREAM)).toBe(false);
  });

  it('knows an entry without a msg id by its bytes', async () => {
    const { check } = fakes(new Map([[5, { data: '{"x":1}' }]]));
    await expect(check.verify(STREAM, { subject: SUBJECT, data: '{"x":1}' }, { seq: 6, duplicate: false })).resolves.toEqual({ seq: 5, duplicate: false });
  });

  it('an entry nowhere near the acked seq, or unreadable, is an unknown outcome, never ok', async () => {
    const { check, warnings } = fakes(new Map([[1, { msgID: 'z', data: '' }], [200, { msgID: 'a', data: '' }]]), new Set([20]));
    await expect(check.verify(STREAM, { subject: SUBJECT, data: '', msgID: 'a' }, { seq: 10, duplicate: false })).rejects.toBeInstanceOf(UnverifiedAckError);
    expect(warnings[0]).toMatchObject({ ackedSeq: 10, why: 'not within 64 seqs' });
    await expect(check.verify(STREAM, { subject: SUBJECT, data: '', msgID: 'a' }, { seq: 20, duplicate: false })).rejects.toBeInstanceOf(UnverifiedAckError);
    expect(check.stats.unresolved).toBe(2);
    // Only the ack read back and found wrong asks for a stepdown; the unreadable one does not.
    expect(check.stats.stepdowns).toBe(1);
  });

  it('a leader-elected advisory makes a trusted stream suspect', async () => {
    const entries = new Map(Array.from({ length: TRUST_AFTER }, (_, i) => [i + 1, { msgID: `m${i + 1}`, data: '' }]));
    const { check, advise } = fakes(entries);
    for (let i = 1; i <= TRUST_AFTER; i++) await check.verify(STREAM, { subject: SUBJECT, data: '', msgID: `m${i}` }, { seq: i, duplicate: false });
    expect(check.trusts(STREAM)).toBe(true);
    advise('other_P0');
    expect(check.stats.advisories).toBe(0);
    advise(STREAM);
    expect(check.trusts(STREAM)).toBe(false);
    expect(check.stats.advisories).toBe(1);
  });
});

describe('Names.streamOfSubject', () => {
  it('names the stream of a conversation subject of its namespace, and nothing else', () => {
    expect(names.streamOfSubject(names.conversationSubject(1, 'g_b'))).toBe(names.stream(1));
    expect(names.streamOfSubject('other.p1.conv.g_b')).toBeUndefined();
    expect(names.streamOfSubject('t.px.conv.g_b')).toBeUndefined();
    expect(names.streamOfSubject(names.progress('timeline'))).toBeUndefined();
  });

  it('ownsStream: its partition streams only', () => {
    expect(names.ownsStream(names.stream(1))).toBe(true);
    expect(names.ownsStream('t_Px')).toBe(false);
    expect(names.ownsStream('tt_P1')).toBe(false);
  });
});
