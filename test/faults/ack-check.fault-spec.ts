import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomBytes } from 'node:crypto';
import { AckCheck, connectNats, ensureStreams, JETSTREAM_SUBJECTS, JetStreamPublisher, Names, TRUST_AFTER } from '@chat/messaging';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster';
import { waitFor } from '../support/wait';

/**
 * The publish-ack check (libs/messaging/src/ack.check.ts) on a private 3-node cluster
 * with an R3 stream: a leader change in the middle of a publish storm makes the stream
 * suspect, its acks are read back until enough in a row are right, and every ack's seq
 * holds the acked message. nats-server's wrong acks themselves cannot be forced; this
 * checks that the guard is on when they can happen.
 */
jest.setTimeout(120_000);

let nats: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let check: AckCheck;
let log: JetStreamPublisher;
const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
const names = new Names(`ackck_${randomBytes(3).toString('hex')}`, 1);
const stream = names.stream(0);
const subject = names.conversationSubject(0, 'g_storm');

beforeAll(async () => {
  nats = await startNatsCluster(3);
  nc = await connectNats(nats.urls.split(','), 'ack-check-fault');
  jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, names, { replicas: 3, duplicateWindowMs: 60_000 });
  await nats.streamsCurrent([stream]);
  check = new AckCheck(nc, jsm, names, { warn: (obj, msg) => warnings.push({ obj, msg }) });
  log = new JetStreamPublisher(nc, check);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('publish acks through a stream leader change', () => {
  it('reads acks back from a leader change until enough are right, and every ack names its own entry', async () => {
    const acked: Array<{ id: string; seq: number }> = [];
    let n = 0;
    const publishOne = async () => {
      const id = `m${n++}`;
      // A publish the stepdown catches may time out or fail: its outcome is unknown, like a client's.
      const ack = await log.publish(subject, JSON.stringify({ id }), { msgID: id, timeout: 5_000 }).catch(() => undefined);
      if (ack) acked.push({ id, seq: ack.seq });
    };
    // A new process trusts no stream: its first acks are read back.
    for (let i = 0; i < TRUST_AFTER; i++) await publishOne();
    expect(check.trusts(stream)).toBe(true);
    expect(check.stats.verified).toBe(TRUST_AFTER);
    const trustedAt = check.stats.verified;

    // The storm: 8 publishers in a row each, until told to stop.
    let storming = true;
    const storm = Array.from({ length: 8 }, async () => {
      while (storming) await publishOne();
    });
    await waitFor('storm under way', () => acked.length >= TRUST_AFTER + 200, 20_000);
    const leaderBefore = await nats.leaderOf(stream);
    const advisories = check.stats.advisories;
    await nc.request(JETSTREAM_SUBJECTS.stepdown(stream), '', { timeout: 5_000 });
    // The leader-elected advisory makes the stream suspect (acks are read back only then)...
    await waitFor('the leader-elected advisory', () => check.stats.advisories > advisories, 10_000);
    // ...and it is trusted again once TRUST_AFTER acks in a row were right.
    await waitFor('stream trusted again after TRUST_AFTER verified acks', () => check.trusts(stream) && check.stats.verified >= trustedAt + TRUST_AFTER, 30_000);
    storming = false;
    await Promise.all(storm);
    expect(await nats.leaderOf(stream)).not.toBe(leaderBefore);

    // Every ack names its own entry, once.
    expect(new Set(acked.map((a) => a.seq)).size).toBe(acked.length);
    for (const a of acked) {
      const stored = await jsm.streams.getMessage(stream, { seq: a.seq });
      expect({ seq: a.seq, id: stored?.json<{ id: string }>().id }).toEqual({ seq: a.seq, id: a.id });
    }
    // A wrong ack (the server bug) would have been answered with its real seq and logged.
    expect(check.stats.unresolved).toBe(0);
    expect(warnings.filter((w) => w.msg.startsWith('publish ack named')).length).toBe(check.stats.corrected);
  });
});
