import { jetstreamManager, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { NoRespondersError, TimeoutError, type NatsConnection } from '@nats-io/nats-core';
import { randomBytes } from 'node:crypto';
import { AckCheck } from './ack.check';
import { TRUST_AFTER } from './ack.suspicion';
import { JetStreamPublisher } from './jetstream.publisher';
import { connectNats } from './nats.connection';
import { Names } from './names';
import { ensureStreams } from './streams';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('JetStreamPublisher on a real NATS server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let log: JetStreamPublisher;
  const names = new Names(`it_${randomBytes(4).toString('hex')}`, 2);

  beforeAll(async () => {
    nc = await connectNats([NATS_URL], 'publisher-int');
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 60_000 });
    log = new JetStreamPublisher(nc);
  });
  afterAll(async () => {
    for (const p of names.allPartitions()) await jsm.streams.delete(names.stream(p)).catch(() => undefined);
    await nc.close();
  });

  it('appends in order and answers each publish with its own stream sequence, however many are in flight', async () => {
    const subject = names.conversationSubject(0, 'g_order');
    const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => log.publish(subject, JSON.stringify({ i }), {})));
    const seqs = acks.map((a) => a.seq);
    expect(new Set(seqs).size).toBe(500);
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    // Each answer is its own entry's: the body stored at seq is the one published.
    for (const i of [0, 137, 499]) {
      const stored = await jsm.streams.getMessage(names.stream(0), { seq: seqs[i]! });
      expect(stored?.json()).toEqual({ i });
    }
  });

  it('carries the msg id: a second publish within the window answers duplicate with the original seq', async () => {
    const subject = names.conversationSubject(1, 'g_dupe');
    const first = await log.publish(subject, 'a', { msgID: 'send:1:u:x' });
    const again = await log.publish(subject, 'a', { msgID: 'send:1:u:x' });
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    const other = await log.publish(subject, 'b', { msgID: 'send:1:u:y' });
    expect(other.seq).toBe(first.seq + 1);
  });

  it('refuses a subject no stream holds with no-responders, at once', async () => {
    await expect(log.publish(`${names.namespace}.nowhere`, 'x', { timeout: 30_000 })).rejects.toBeInstanceOf(NoRespondersError);
  });

  it("rejects with the stream's own error when the stream refuses the entry", async () => {
    const stream = `${names.namespace}_small`;
    await jsm.streams.add({ name: stream, subjects: [`${names.namespace}.small`], max_msg_size: 16 });
    try {
      const refused = log.publish(`${names.namespace}.small`, 'x'.repeat(64), {});
      await expect(refused).rejects.toBeInstanceOf(JetStreamApiError);
      await expect(refused).rejects.toMatchObject({ status: 400 });
      expect((await log.publish(`${names.namespace}.small`, 'short', {})).seq).toBe(1);
    } finally {
      await jsm.streams.delete(stream);
    }
  });

  it('times out when nothing answers (a responder that never replies)', async () => {
    const silent = nc.subscribe(`${names.namespace}.silent`);
    try {
      await expect(log.publish(`${names.namespace}.silent`, 'x', { timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      silent.unsubscribe();
    }
  });

  it('with an AckCheck, reads back the acks of a stream it does not trust yet, and stops once it does', async () => {
    const check = new AckCheck(nc, jsm, names, { warn: () => undefined });
    const checked = new JetStreamPublisher(nc, check);
    const subject = names.conversationSubject(1, 'g_checked');
    const acks = [];
    for (let i = 0; i < TRUST_AFTER + 10; i++) acks.push(await checked.publish(subject, JSON.stringify({ i }), { msgID: `chk-${i}` }));
    expect(check.stats).toMatchObject({ verified: TRUST_AFTER, corrected: 0, unresolved: 0 });
    expect(check.trusts(names.stream(1))).toBe(true);
    // A subject no stream of the namespace holds is never checked.
    await expect(checked.publish(`${names.namespace}.nowhere`, 'x', {})).rejects.toBeInstanceOf(NoRespondersError);
    // A sign of a leader change (a timeout, no responders, an advisory) makes it suspect again.
    check.suspect(names.stream(1));
    const again = await checked.publish(subject, '{}', { msgID: 'chk-again' });
    expect(again.seq).toBe(acks.at(-1)!.seq + 1);
    expect(check.stats.verified).toBe(TRUST_AFTER + 1);
  });

  it("finds an entry a wrong ack missed by walking its subject's entries (STREAM.MSG.GET next_by_subj on this server)", async () => {
    const warnings: string[] = [];
    const check = new AckCheck(nc, jsm, names, { warn: (_o, msg) => warnings.push(msg) });
    const subject = names.conversationSubject(1, 'g_walk');
    const other = names.conversationSubject(1, 'g_other');
    const mine = await log.publish(subject, '{"mine":true}', { msgID: 'walk-mine' });
    for (let i = 0; i < 10; i++) await log.publish(other, JSON.stringify({ i }), {});
    // As nats-server's clseq bug acks it: a seq further on, that holds another entry.
    const sent = { subject, data: '{"mine":true}', msgID: 'walk-mine' };
    await expect(check.verify(names.stream(1), sent, { seq: mine.seq + 7, duplicate: false })).resolves.toEqual({ seq: mine.seq, duplicate: false });
    await expect(check.verify(names.stream(1), sent, { seq: mine.seq + 500, duplicate: false })).rejects.toThrow(/outcome unknown/);
    expect(check.stats).toMatchObject({ corrected: 1, unresolved: 1 });
    expect(warnings).toHaveLength(2);
  });
});
