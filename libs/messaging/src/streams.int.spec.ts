import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { nanos } from '@nats-io/nats-core';
import { randomBytes } from 'node:crypto';
import { connectNats } from './nats.connection';
import { Names } from './names';
import { ensureStreams } from './streams';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('partition streams on a real NATS server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const names = new Names(`it_${randomBytes(4).toString('hex')}`, 3);

  beforeAll(async () => {
    nc = await connectNats([NATS_URL], 'streams-int');
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    for (const p of names.allPartitions()) await jsm.streams.delete(names.stream(p)).catch(() => undefined);
    await nc.close();
  });

  it('creates one stream per partition with the settings the log depends on, and reads them back', async () => {
    await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 90_000 });
    for (const p of names.allPartitions()) {
      const { config } = await jsm.streams.info(names.stream(p));
      expect(config).toMatchObject({
        subjects: [`${names.namespace}.p${p}.conv.*`],
        storage: 'file',
        retention: 'limits',
        num_replicas: 1,
        duplicate_window: nanos(90_000),
        deny_delete: true,
      });
    }
  });

  it('is idempotent, and moves the duplicate window when the setting changes', async () => {
    await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 90_000 });
    await ensureStreams(jsm, names, { replicas: 1, duplicateWindowMs: 30_000 });
    expect((await jsm.streams.info(names.stream(0))).config.duplicate_window).toBe(nanos(30_000));
  });

  it('refuses to start on a stream whose settings differ from what the code relies on', async () => {
    // Replicas cannot be changed on a single server: the read-back must catch it.
    await expect(ensureStreams(jsm, names, { replicas: 3, duplicateWindowMs: 30_000 })).rejects.toThrow(/num_replicas|replicas/);
  });

  it('dedupes by Nats-Msg-Id within the window and returns the original sequence', async () => {
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    const subject = names.conversationSubject(1, 'g_dedupe');
    const a = await js.publish(subject, 'x', { msgID: 'send:u:1' });
    const b = await js.publish(subject, 'x', { msgID: 'send:u:1' });
    expect(b).toMatchObject({ seq: a.seq, duplicate: true });
  });
});

describe('names', () => {
  const names = new Names('chat', 4);
  it.each(['*', '>', 'a.b', 'a b', '', 'x'.repeat(65)])('refuses %p as a conversation id in a subject', (id) => {
    expect(() => names.conversationSubject(0, id)).toThrow(/not a conversation id/);
  });
  it('puts a conversation in a stable partition below the partition count', () => {
    const p = names.partitionFor('g_abc');
    expect(p).toBe(names.partitionFor('g_abc'));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(4);
    const spread = new Set(Array.from({ length: 200 }, (_, i) => names.partitionFor(`g_${i}`)));
    expect(spread.size).toBe(4);
  });
});
