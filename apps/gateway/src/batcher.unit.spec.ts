import { Batcher } from './batcher';

/** A batch whose end the test decides. */
function controlled<I>() {
  const batches: Array<{ items: I[]; deadline: number; finish: (outcomes: Array<string | Error>) => void; fail: (err: Error) => void }> = [];
  const run = (items: I[], deadline: number) =>
    new Promise<Array<string | Error>>((resolve, reject) => batches.push({ items, deadline, finish: resolve, fail: reject }));
  return { batches, run };
}

const turn = () => new Promise((r) => setImmediate(r));
const expired = () => new Error('expired');
const FAR = Number.MAX_SAFE_INTEGER;

describe('Batcher', () => {
  it('runs what arrives in one turn as one batch, and answers each item with its own outcome', async () => {
    const { batches, run } = controlled<number>();
    const batcher = new Batcher(run, { maxBatch: 100, maxInFlight: 1, expired });
    const answers = [1, 2, 3].map((n) => batcher.submit(n, FAR));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    batches[0]!.finish(['one', new Error('two failed'), 'three']);
    expect(await Promise.allSettled(answers)).toEqual([
      { status: 'fulfilled', value: 'one' },
      { status: 'rejected', reason: new Error('two failed') },
      { status: 'fulfilled', value: 'three' },
    ]);
  });

  it('queues what arrives while batches are under way and takes it together, at most maxBatch at a time', async () => {
    const { batches, run } = controlled<number>();
    const batcher = new Batcher(run, { maxBatch: 3, maxInFlight: 2, expired });
    const first = batcher.submit(0, FAR);
    await turn();
    const second = batcher.submit(1, FAR);
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[0], [1]]);
    const queued = [2, 3, 4, 5, 6].map((n) => batcher.submit(n, FAR));
    await turn();
    expect(batches).toHaveLength(2); // both places taken: the rest waits
    expect(batcher.waiting).toBe(5);
    batches[0]!.finish(['a']);
    await first;
    expect(batches.map((b) => b.items)).toEqual([[0], [1], [2, 3, 4]]);
    batches[1]!.finish(['b']);
    await second;
    expect(batches.map((b) => b.items)).toEqual([[0], [1], [2, 3, 4], [5, 6]]);
    batches[2]!.finish(['c', 'd', 'e']);
    batches[3]!.finish(['f', 'g']);
    expect(await Promise.all(queued)).toEqual(['c', 'd', 'e', 'f', 'g']);
  });

  it('fails an item whose deadline passed while it waited, without running it, and gives a batch its earliest deadline', async () => {
    let now = 1_000;
    const { batches, run } = controlled<string>();
    const batcher = new Batcher(run, { maxBatch: 10, maxInFlight: 1, expired, now: () => now });
    const busy = batcher.submit('busy', 5_000);
    await turn();
    const late = batcher.submit('late', 2_000);
    const soon = batcher.submit('soon', 3_000);
    const later = batcher.submit('later', 9_000);
    now = 2_500;
    batches[0]!.finish(['ok']);
    await busy;
    await expect(late).rejects.toThrow('expired');
    expect(batches.map((b) => b.items)).toEqual([['busy'], ['soon', 'later']]);
    expect(batches[1]!.deadline).toBe(3_000);
    batches[1]!.finish(['s', 'l']);
    expect(await Promise.all([soon, later])).toEqual(['s', 'l']);
  });

  it('fails every item of a batch that throws, then goes on with the next', async () => {
    const { batches, run } = controlled<number>();
    const batcher = new Batcher(run, { maxBatch: 10, maxInFlight: 1, expired });
    const doomed = [1, 2].map((n) => batcher.submit(n, FAR));
    await turn();
    const next = batcher.submit(3, FAR);
    batches[0]!.fail(new Error('redis down'));
    expect((await Promise.allSettled(doomed)).map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(['redis down', 'redis down']);
    await turn();
    batches[1]!.finish(['fine']);
    expect(await next).toBe('fine');
  });

  it('fails an item its batch gave no outcome for, rather than leaving it waiting', async () => {
    const batcher = new Batcher(async () => ['only one'], { maxBatch: 10, maxInFlight: 1, expired });
    const [a, b] = [batcher.submit(1, FAR), batcher.submit(2, FAR)];
    expect(await a).toBe('only one');
    await expect(b).rejects.toThrow('batch gave no outcome');
  });

  it('is idle once nothing waits and nothing is under way', async () => {
    const { batches, run } = controlled<number>();
    const batcher = new Batcher(run, { maxBatch: 1, maxInFlight: 1, expired });
    await batcher.idle();
    const answers = [batcher.submit(1, FAR), batcher.submit(2, FAR)];
    let idle = false;
    const done = batcher.idle().then(() => (idle = true));
    await turn();
    batches[0]!.finish(['x']);
    await answers[0];
    expect(idle).toBe(false);
    batches[1]!.finish(['y']);
    await done;
    expect(idle).toBe(true);
    expect(await answers[1]).toBe('y');
  });
});
