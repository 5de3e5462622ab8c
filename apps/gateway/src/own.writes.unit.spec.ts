import { OwnWrites } from './own.writes';

/** A watch whose positions the test moves; waits resolve when a position passes them, or false when told to time out. */
function fakeWatch() {
  const reached = new Map<number, number>();
  const waits: Array<{ partition: number; seq: number; resolve: (ok: boolean) => void }> = [];
  return {
    waits,
    reached: (partition: number) => reached.get(partition) ?? 0,
    waitFor: (partition: number, seq: number) => new Promise<boolean>((resolve) => waits.push({ partition, seq, resolve })),
    advance(partition: number, seq: number) {
      reached.set(partition, seq);
      for (const w of waits.splice(0)) {
        if (w.partition === partition && w.seq <= seq) w.resolve(true);
        else waits.push(w);
      }
    },
    timeOut() {
      for (const w of waits.splice(0)) w.resolve(false);
    },
  };
}

describe('OwnWrites (read-your-writes of one connection)', () => {
  it('owes nothing before any write and once the projection reached them: answered without a promise', () => {
    const watch = fakeWatch();
    const writes = new OwnWrites();
    expect(writes.caughtUp(watch)).toBeUndefined();
    writes.note(1, 40);
    writes.note(1, 30);
    watch.advance(1, 40);
    expect(writes.caughtUp(watch)).toBeUndefined();
    expect(watch.waits).toEqual([]);
  });

  it('waits for every partition it wrote to, and forgets what was reached', async () => {
    const watch = fakeWatch();
    const writes = new OwnWrites();
    writes.note(0, 7);
    writes.note(2, 9);
    const owed = writes.caughtUp(watch)!;
    expect(watch.waits.map((w) => [w.partition, w.seq])).toEqual([[0, 7], [2, 9]]);
    watch.advance(0, 7);
    watch.advance(2, 12);
    await expect(owed).resolves.toBe(true);
    expect(writes.caughtUp(watch)).toBeUndefined();
  });

  it('answers false when the projection does not get there in time, and still owes it', async () => {
    const watch = fakeWatch();
    const writes = new OwnWrites();
    writes.note(3, 5);
    const owed = writes.caughtUp(watch)!;
    watch.timeOut();
    await expect(owed).resolves.toBe(false);
    const again = writes.caughtUp(watch)!;
    expect(again).toBeInstanceOf(Promise);
    watch.advance(3, 5);
    await expect(again).resolves.toBe(true);
  });

  it('keeps owing a later write noted while it waited', async () => {
    const watch = fakeWatch();
    const writes = new OwnWrites();
    writes.note(1, 10);
    const owed = writes.caughtUp(watch)!;
    writes.note(1, 11);
    watch.advance(1, 10);
    await expect(owed).resolves.toBe(true);
    const next = writes.caughtUp(watch)!;
    expect(next).toBeInstanceOf(Promise);
    watch.advance(1, 11);
    await expect(next).resolves.toBe(true);
  });
});

describe('OwnWrites for search (the index follows the timeline)', () => {
  it('owes a write to the search index until the search watch reached it, whatever the timeline reached', async () => {
    const timeline = fakeWatch();
    const search = fakeWatch();
    const writes = new OwnWrites();
    writes.note(0, 12);
    timeline.advance(0, 12);
    expect(writes.caughtUp(timeline)).toBeUndefined();
    const owed = writes.caughtUp(search, 5_000, 'search');
    expect(owed).toBeInstanceOf(Promise);
    search.advance(0, 12);
    await expect(owed).resolves.toBe(true);
    expect(writes.caughtUp(search, 5_000, 'search')).toBeUndefined();
  });
});
