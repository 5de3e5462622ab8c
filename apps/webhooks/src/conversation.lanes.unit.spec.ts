import { ConversationLanes } from './conversation.lanes';

interface Job {
  key: string;
  n: number;
}

/** Work that finishes when the test says so, recording what started. */
function gatedWork() {
  const started: string[] = [];
  const gates = new Map<string, (done: boolean) => void>();
  const work = (job: Job) =>
    new Promise<boolean>((resolve) => {
      started.push(`${job.key}${job.n}`);
      gates.set(`${job.key}${job.n}`, resolve);
    });
  const finish = (id: string, done = true) => {
    const gate = gates.get(id);
    if (!gate) throw new Error(`${id} is not at work (started: ${started.join(' ')})`);
    gates.delete(id);
    gate(done);
  };
  return { started, work, finish, atWork: () => [...gates.keys()].sort() };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('ConversationLanes', () => {
  it('works one item at a time per key, in the order added, with at most `concurrency` keys at work', async () => {
    const w = gatedWork();
    const lanes = new ConversationLanes<Job>(2, (j) => j.key, w.work);
    for (const [key, n] of [['a', 1], ['a', 2], ['b', 1], ['c', 1], ['b', 2]] as const) lanes.push({ key, n });
    expect(w.atWork()).toEqual(['a1', 'b1']);
    w.finish('a1');
    await settle();
    // a had more, but c waited: c gets the slot, a goes to the back of the line.
    expect(w.atWork()).toEqual(['b1', 'c1']);
    w.finish('b1');
    await settle();
    expect(w.atWork()).toEqual(['a2', 'c1']);
    w.finish('c1');
    await settle();
    expect(w.atWork()).toEqual(['a2', 'b2']);
    w.finish('a2');
    w.finish('b2');
    await settle();
    expect(w.started).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
    expect(lanes.size).toBe(0);
  });

  it('keeps a key that is held back (its item not done) from holding back the others', async () => {
    const w = gatedWork();
    const lanes = new ConversationLanes<Job>(2, (j) => j.key, w.work);
    lanes.push({ key: 'stuck', n: 1 });
    lanes.push({ key: 'stuck', n: 2 });
    for (let n = 1; n <= 3; n++) lanes.push({ key: 'free', n });
    for (let n = 1; n <= 3; n++) {
      expect(w.atWork()).toEqual([`free${n}`, 'stuck1']);
      w.finish(`free${n}`);
      await settle();
    }
    expect(w.atWork()).toEqual(['stuck1']);
    expect(lanes.size).toBe(2);
  });

  it('stops taking items and resolves stop() once the items at work have returned; an unfinished item stays', async () => {
    const w = gatedWork();
    const lanes = new ConversationLanes<Job>(4, (j) => j.key, w.work);
    lanes.push({ key: 'a', n: 1 });
    lanes.push({ key: 'a', n: 2 });
    let stopped = false;
    const stopping = lanes.stop().then(() => (stopped = true));
    lanes.push({ key: 'b', n: 1 });
    await settle();
    expect(stopped).toBe(false);
    w.finish('a1', false);
    await stopping;
    expect(w.started).toEqual(['a1']);
    expect(lanes.size).toBe(2);
  });
});
