import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { BatchResult, LoggedEvent } from './batch.notifier';
import { waitFor } from '../../../test/support/wait';
import { PartitionFeed } from './partition.feed';

/* The feed at the service tier: a fake consumer and fake messages that record how they were settled. */

const at = '2026-01-01T12:00:00.000Z';

function fakeMessage(seq: number, data: unknown = { type: 'MessageSent', v: 1, conversationId: 'g_a', senderId: 'ann', clientMsgId: `m${seq}`, body: 'x', at }) {
  const settled: string[] = [];
  const m = {
    seq,
    info: { deliveryCount: 1 },
    json: () => {
      if (data instanceof Error) throw data;
      return data;
    },
    ack: () => void settled.push('ack'),
    nak: (delay?: number) => void settled.push(`nak:${delay}`),
    working: () => void settled.push('working'),
  };
  return { msg: m as unknown as JsMsg, settled };
}

function fakeConsumer() {
  let deliver: ((m: JsMsg) => void) | undefined;
  const consumer = {
    consume: async (opts: { callback: (m: JsMsg) => void }) => {
      deliver = opts.callback;
      return { closed: () => new Promise(() => undefined), close: async () => undefined };
    },
  };
  return { consumer: consumer as unknown as Consumer, deliver: (m: JsMsg) => deliver!(m) };
}

/** A handler whose batches finish when the test says so. */
function gatedHandler() {
  const batches: LoggedEvent[][] = [];
  const gates: Array<(r: BatchResult | Error) => void> = [];
  const handle = (_p: number, events: LoggedEvent[]) => {
    batches.push(events);
    return new Promise<BatchResult>((resolve, reject) => gates.push((r) => (r instanceof Error ? reject(r) : resolve(r))));
  };
  return { batches, handle, finish: (r: BatchResult | Error) => gates.shift()!(r) };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setImmediate(r));
  expect(what()).toBe(true);
};

describe('PartitionFeed', () => {
  const log = { warn: () => undefined, error: () => undefined };

  it('takes what arrived while a batch was at work as the next batch, and acks each once it is decided', async () => {
    const c = fakeConsumer();
    const h = gatedHandler();
    const feed = new PartitionFeed({ partition: 0, open: async () => c.consumer, handle: h.handle, batchSize: 200, ackWaitMs: 10_000, log });
    await feed.start();
    const first = fakeMessage(1);
    c.deliver(first.msg);
    await until(() => h.batches.length === 1);
    const rest = [2, 3, 4].map((s) => fakeMessage(s));
    for (const m of rest) c.deliver(m.msg);
    expect(first.settled).toEqual([]);
    h.finish({ later: [] });
    await until(() => h.batches.length === 2);
    expect(h.batches.map((b) => b.map((e) => e.seq))).toEqual([[1], [2, 3, 4]]);
    await until(() => first.settled.length > 0);
    expect(first.settled).toEqual(['ack']);
    h.finish({ later: [3] });
    await until(() => rest.every((m) => m.settled.length > 0));
    expect(rest.map((m) => m.settled)).toEqual([['ack'], ['nak:250'], ['ack']]);
    await feed.stop();
  });

  it('hands the whole batch back when handling it fails, and goes on with the next', async () => {
    const c = fakeConsumer();
    const h = gatedHandler();
    const feed = new PartitionFeed({ partition: 0, open: async () => c.consumer, handle: h.handle, batchSize: 200, ackWaitMs: 10_000, log });
    await feed.start();
    const a = [fakeMessage(1), fakeMessage(2)];
    for (const m of a) c.deliver(m.msg);
    await until(() => h.batches.length === 1);
    h.finish(new Error('postgres is away'));
    await until(() => a.every((m) => m.settled.length > 0));
    expect(a.map((m) => m.settled)).toEqual([['nak:250'], ['nak:250']]);
    const b = fakeMessage(3);
    c.deliver(b.msg);
    await until(() => h.batches.length === 2);
    h.finish({ later: [] });
    await until(() => b.settled.length > 0);
    expect(b.settled).toEqual(['ack']);
    await feed.stop();
  });

  it('keeps every message it holds from redelivery, queued ones too, and takes a redelivered one once', async () => {
    const c = fakeConsumer();
    const h = gatedHandler();
    const feed = new PartitionFeed({ partition: 0, open: async () => c.consumer, handle: h.handle, batchSize: 200, ackWaitMs: 20, log });
    await feed.start();
    const first = fakeMessage(1);
    const queued = fakeMessage(2);
    c.deliver(first.msg);
    await until(() => h.batches.length === 1);
    c.deliver(queued.msg);
    await waitFor('both said to be at work', () => first.settled.includes('working') && queued.settled.includes('working'));
    c.deliver(fakeMessage(2).msg); // the server sent it again meanwhile
    h.finish({ later: [] });
    await until(() => h.batches.length === 2);
    expect(h.batches[1]!.map((e) => e.seq)).toEqual([2]);
    h.finish({ later: [] });
    await until(() => queued.settled.includes('ack'));
    expect(queued.settled.filter((x) => x === 'ack')).toHaveLength(1);
    await feed.stop();
  });

  it('passes every event of the partition, and one it cannot read as seq only', async () => {
    const c = fakeConsumer();
    const h = gatedHandler();
    const feed = new PartitionFeed({ partition: 0, open: async () => c.consumer, handle: h.handle, batchSize: 2, ackWaitMs: 10_000, log });
    await feed.start();
    c.deliver(fakeMessage(1, { type: 'MembersAdded', v: 1, conversationId: 'g_a', by: 'ann', userIds: ['bob'], at }).msg);
    await until(() => h.batches.length === 1);
    for (const m of [fakeMessage(2, new Error('not json')), fakeMessage(3, { type: 'Nonsense' }), fakeMessage(4)]) c.deliver(m.msg);
    h.finish({ later: [] });
    await until(() => h.batches.length === 2);
    expect(h.batches[0]![0]!.event?.type).toBe('MembersAdded');
    expect(h.batches[1]).toEqual([{ seq: 2 }, { seq: 3 }]); // at most batchSize at once
    h.finish({ later: [] });
    await until(() => h.batches.length === 3);
    expect(h.batches[2]!.map((e) => e.event?.type)).toEqual(['MessageSent']);
    h.finish({ later: [] });
    await feed.stop();
  });

  it('goes on with the next batches while a held message waits for its wake-up, keeps it from redelivery, and acks it once decided (hands it back when that failed)', async () => {
    const c = fakeConsumer();
    const h = gatedHandler();
    const feed = new PartitionFeed({ partition: 0, open: async () => c.consumer, handle: h.handle, batchSize: 200, ackWaitMs: 20, log });
    await feed.start();
    const [one, two, three] = [fakeMessage(1), fakeMessage(2), fakeMessage(3)];
    c.deliver(one!.msg);
    c.deliver(two!.msg);
    await until(() => h.batches.length === 1);
    let decide!: () => void;
    let fail!: (e: Error) => void;
    const held = new Map([
      [1, new Promise<void>((r) => (decide = r))],
      [2, new Promise<void>((_r, j) => (fail = j))],
    ]);
    h.finish({ later: [], held });
    c.deliver(three!.msg);
    await until(() => h.batches.length === 2);
    h.finish({ later: [] });
    await until(() => three!.settled.includes('ack'));
    await waitFor('the held ones said to be at work', () => one!.settled.includes('working') && two!.settled.includes('working'));
    expect(one!.settled.every((x) => x === 'working')).toBe(true);
    c.deliver(fakeMessage(1).msg); // redelivered meanwhile: still held, not a new batch
    const stopped = feed.stop();
    decide();
    fail(new Error('postgres is away'));
    await stopped;
    expect(h.batches).toHaveLength(2);
    expect(one!.settled.filter((x) => x !== 'working')).toEqual(['ack']);
    expect(two!.settled.filter((x) => x !== 'working')).toEqual(['nak:250']);
  });
});
