import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { PartitionPump, type PumpBatch, type PumpDeps } from './partition.pump';
import { StaleBatchError } from './timeline.applier';

/** A consumer the test feeds by hand, and the acks the pump gives. */
function fakeLog() {
  let deliver: (m: JsMsg) => void = () => undefined;
  const acked: number[] = [];
  const pulls = { opened: 0, closed: 0 };
  const msg = (seq: number) => ({ seq, ack: () => acked.push(seq), nak: () => undefined, term: () => undefined, working: () => undefined }) as unknown as JsMsg;
  const consumer = {
    consume: async ({ callback }: { callback: (m: JsMsg) => void }) => {
      pulls.opened++;
      // Only the newest subscription gets events: a closed one's pulls are gone.
      deliver = callback;
      return { closed: () => new Promise(() => undefined), close: async () => void pulls.closed++, stop: () => undefined };
    },
  } as unknown as Consumer;
  return { consumer, acked, pulls, append: (...seqs: number[]) => seqs.forEach((s) => deliver(msg(s))) };
}

/** Commits the test completes one by one. */
function controlledHandler() {
  const batches: Array<{ seqs: number[]; fromSeq: number; commit: () => void; fail: (e: unknown) => void }> = [];
  const handle = (b: PumpBatch) =>
    new Promise<void>((resolve, reject) => batches.push({ seqs: b.messages.map((m) => m.seq), fromSeq: b.fromSeq, commit: resolve, fail: reject }));
  return { batches, handle };
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error(`not reached: ${what}`);
}

const log = { warn: () => undefined, error: () => undefined, info: () => undefined } as unknown as Logger;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('PartitionPump', () => {
  let pump: PartitionPump | undefined;
  afterEach(async () => {
    await pump?.stop();
  });

  function start(handler: Pick<PumpDeps, 'handle'>, source: ReturnType<typeof fakeLog>, extra: Partial<PumpDeps> = {}) {
    pump = new PartitionPump({
      partition: 0, afterSeq: 0, batchSize: 500, logger: log, openConsumer: async () => source.consumer, firstSeq: async () => 1,
      handle: handler.handle, resync: async () => undefined, ...extra,
    });
    return pump.start();
  }

  it('folds the next batch while one commits once enough events wait, and acks each after its commit, in order', async () => {
    const source = fakeLog();
    const handler = controlledHandler();
    await start(handler, source);
    source.append(1);
    await until('batch 1', () => handler.batches.length === 1);
    // A few events behind the commit wait for it...
    source.append(...range(2, 10));
    await new Promise((r) => setImmediate(r));
    expect(handler.batches).toHaveLength(1);
    // ...many are folded while it runs.
    source.append(...range(11, 100));
    await until('batch 2 during commit 1', () => handler.batches.length === 2);
    expect(handler.batches[1]).toMatchObject({ seqs: range(2, 100), fromSeq: 1 });
    expect(source.acked).toEqual([]);
    handler.batches[0]!.commit();
    await until('ack 1', () => source.acked.length === 1);
    expect(source.acked).toEqual([1]);
    handler.batches[1]!.commit();
    await until('ack 100', () => source.acked.includes(100));
    expect(source.acked).toEqual([1, 100]);
  });

  it('hands over again, in order, the batch that failed and the one folded on it', async () => {
    const source = fakeLog();
    const handler = controlledHandler();
    await start(handler, source, { foldAgain: (e) => e instanceof StaleBatchError || (e as Error).message === 'copies' });
    source.append(...range(1, 70));
    await until('batch 1', () => handler.batches.length === 1);
    source.append(...range(71, 140));
    await until('batch 2', () => handler.batches.length === 2);
    handler.batches[0]!.fail(new Error('copies'));
    handler.batches[1]!.fail(new StaleBatchError(0));
    await until('batch 1 again', () => handler.batches.length === 3);
    expect(handler.batches[2]).toMatchObject({ seqs: range(1, 140), fromSeq: 0 });
    handler.batches[2]!.commit();
    await until('ack 140', () => source.acked.includes(140));
    expect(source.acked).toEqual([140]);
  });

  it('reopens the consumer at the checkpoint when an event stays missing while later ones wait (a delivery lost on the way)', async () => {
    const source = fakeLog();
    const handler = controlledHandler();
    const opened: number[] = [];
    await start(handler, source, { openConsumer: async (afterSeq) => (opened.push(afterSeq), source.consumer), gapMs: { check: 10, reopen: 60 } });
    source.append(1);
    await until('batch 1', () => handler.batches.length === 1);
    handler.batches[0]!.commit();
    await until('ack 1', () => source.acked.includes(1));
    // 2 was lost between the consumer and this process; 3 and 4 came.
    source.append(3, 4);
    const started = Date.now();
    // Timers run here (the gap checks): poll on the clock, not on setImmediate turns.
    for (let i = 0; i < 400 && opened.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(opened).toEqual([0, 1]);
    expect(handler.batches).toHaveLength(1);
    // The new consumer starts right after the checkpoint: 2 comes first, then the rest.
    source.append(2, 3, 4);
    await until('batch 2', () => handler.batches.length === 2);
    expect(handler.batches[1]).toMatchObject({ seqs: [2, 3, 4], fromSeq: 1 });
    handler.batches[1]!.commit();
    await until('ack 4', () => source.acked.includes(4));
  });

  it('pulls again from the same consumer when its leader moved, keeping what is buffered and the batch in flight', async () => {
    const source = fakeLog();
    const handler = controlledHandler();
    const opened: number[] = [];
    await start(handler, source, { openConsumer: async (afterSeq) => (opened.push(afterSeq), source.consumer) });
    source.append(1);
    await until('batch 1', () => handler.batches.length === 1);
    source.append(2);
    await pump!.repull('its consumer has a new leader');
    expect(source.pulls).toEqual({ opened: 2, closed: 1 });
    // Not recreated: the consumer keeps its position, nothing is delivered again.
    expect(opened).toEqual([0]);
    handler.batches[0]!.commit();
    source.append(3);
    await until('batch 2', () => handler.batches.length === 2);
    expect(handler.batches[1]).toMatchObject({ seqs: [2, 3], fromSeq: 1 });
    handler.batches[1]!.commit();
    await until('ack 3', () => source.acked.includes(3));
  });

  it('waits for the commit, not in a loop, when the event after the batch in flight is missing and later ones are here', async () => {
    const source = fakeLog();
    // Counts the reactions the pump attaches to the batch in flight: a loop that never yields would attach them without end.
    let reactions = 0;
    class Counted<T> extends Promise<T> {
      static override get [Symbol.species]() {
        return Promise;
      }
      override then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
        if (++reactions > 10_000) throw new Error('the pump is spinning');
        return super.then(ok, fail);
      }
    }
    const batches: Array<{ seqs: number[]; commit: () => void }> = [];
    await start({ handle: (b) => new Counted<void>((resolve) => batches.push({ seqs: b.messages.map((m) => m.seq), commit: resolve })) }, source);
    source.append(1);
    await until('batch 1', () => batches.length === 1);
    // 2 is missing (on its way again); 3..66 are here, more than a batch folded early needs.
    source.append(...range(3, 66));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(reactions).toBeLessThan(100);
    expect(batches).toHaveLength(1);
    batches[0]!.commit();
    source.append(2);
    await until('batch 2', () => batches.length === 2);
    expect(batches[1]!.seqs).toEqual(range(2, 66));
    batches[1]!.commit();
    await until('ack 66', () => source.acked.includes(66));
  });

  it('skips an entry the stream does not hold (a hole) once the gap has lasted, instead of waiting for it forever', async () => {
    const source = fakeLog();
    const handler = controlledHandler();
    await start(handler, source, { hasEntry: async (seq) => seq !== 2, gapMs: { check: 10, reopen: 60 } });
    source.append(1, 3, 4);
    await until('batch 1', () => handler.batches.length === 1);
    handler.batches[0]!.commit();
    for (let i = 0; i < 400 && handler.batches.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(handler.batches[1]).toMatchObject({ seqs: [3, 4], fromSeq: 2 });
    handler.batches[1]!.commit();
    await until('ack 4', () => source.acked.includes(4));
  });
});
