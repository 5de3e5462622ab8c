import type { NatsConnection } from '@nats-io/nats-core';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../../../test/support/wait';
import { Names } from './names';
import { connectNats } from './nats.connection';
import { ProjectionWatch } from './projection.watch';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('ProjectionWatch on a real NATS server', () => {
  let nc: NatsConnection;
  let publisher: NatsConnection;
  const names = new Names(`it_${randomBytes(4).toString('hex')}`, 2);
  const notify = async (partition: number, seq: number) => {
    publisher.publish(names.progress('timeline'), JSON.stringify({ partition, seq }));
    await publisher.flush();
  };

  beforeAll(async () => {
    nc = await connectNats([NATS_URL], 'watch-int');
    publisher = await connectNats([NATS_URL], 'watch-int-projector');
  });
  afterAll(async () => {
    await nc.close();
    await publisher.close();
  });

  it('resolves a wait when the notice of its partition reaches the seq, without reading the checkpoint again', async () => {
    const reads: number[] = [];
    const watch = new ProjectionWatch(nc, names, async (p) => (reads.push(p), 0));
    await watch.start();
    try {
      const waiting = watch.waitFor(1, 10, 30_000);
      await notify(0, 50); // another partition
      await notify(1, 9);
      await notify(1, 12);
      expect(await waiting).toBe(true);
      await waitFor('the last notice', () => watch.reached(1) === 12);
      expect(watch.reached(0)).toBe(50);
      expect(reads).toEqual([1]);
      expect(await watch.waitFor(1, 11, 30_000)).toBe(true); // known already: no read
      expect(reads).toEqual([1]);
    } finally {
      watch.stop();
    }
  });

  it('reads no checkpoint for a partition it has heard a notice of: notices are cumulative', async () => {
    const reads: number[] = [];
    const watch = new ProjectionWatch(nc, names, async (p) => (reads.push(p), 0));
    await watch.start();
    try {
      await notify(0, 3);
      await waitFor('the notice', () => watch.reached(0) === 3);
      for (const seq of [4, 5, 6]) {
        const waiting = watch.waitFor(0, seq, 30_000);
        await notify(0, seq);
        expect(await waiting).toBe(true);
      }
      expect(reads).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('answers from the checkpoint for what was committed before it subscribed', async () => {
    const watch = new ProjectionWatch(nc, names, async () => 40);
    await watch.start();
    try {
      expect(await watch.waitFor(0, 40, 30_000)).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('does not miss a notice that arrives while the checkpoint is being read', async () => {
    let release!: (seq: number) => void;
    const watch = new ProjectionWatch(nc, names, () => new Promise<number>((r) => (release = r)));
    await watch.start();
    try {
      const waiting = watch.waitFor(0, 5, 30_000);
      await notify(0, 5); // the projector commits and announces while the read is on its way...
      await waitFor('the notice', () => watch.reached(0) === 5);
      release(4); // ...and the read answers with what it saw before the commit
      expect(await waiting).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('asks the checkpoint once more when no notice came in time (a notice lost on a reconnect)', async () => {
    let checkpoint = 0;
    const watch = new ProjectionWatch(nc, names, async () => checkpoint);
    await watch.start();
    try {
      const waiting = watch.waitFor(0, 7, 200);
      checkpoint = 7; // committed, but its notice never arrives
      expect(await waiting).toBe(true);
      expect(await watch.waitFor(0, 8, 100)).toBe(false);
    } finally {
      watch.stop();
    }
  });

  it('ignores what is not a notice, and stops waiting when stopped', async () => {
    const watch = new ProjectionWatch(nc, names, async () => 0);
    await watch.start();
    const waiting = watch.waitFor(0, 3, 30_000);
    publisher.publish(names.progress('timeline'), 'not json');
    publisher.publish(names.progress('timeline'), JSON.stringify({ partition: 'x', seq: 99 }));
    await publisher.flush();
    await notify(0, 2);
    await waitFor('the notice', () => watch.reached(0) === 2);
    watch.stop();
    expect(await waiting).toBe(false);
  });
});
