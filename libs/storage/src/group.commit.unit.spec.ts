import { GroupCommit } from './group.commit';

describe('GroupCommit', () => {
  it('commits what arrives while a statement runs in the next one, and gives each item of a failed group its own outcome', async () => {
    const statements: string[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<string>(
      async (items) => {
        statements.push(items);
        if (items.includes('bad')) throw new Error('group failed');
        await new Promise<void>((r) => (release = r));
      },
      async (item) => {
        statements.push([`one:${item}`]);
        if (item === 'bad') throw new Error(`${item} failed`);
      },
      0,
    );
    const first = group.commit('a');
    await new Promise((r) => setTimeout(r, 5));
    // 'a' alone went as one; b, c and bad wait for it and go together, then one by one.
    const rest = ['b', 'c', 'bad'].map((x) => group.commit(x).then(() => 'ok', (e: Error) => e.message));
    expect(statements).toEqual([['one:a']]);
    await first;
    expect(await Promise.all(rest)).toEqual(['ok', 'ok', 'bad failed']);
    expect(statements).toEqual([['one:a'], ['b', 'c', 'bad'], ['one:b'], ['one:c'], ['one:bad']]);
    release();
  });

  it('starts statements at most every interval', async () => {
    jest.useFakeTimers();
    try {
      const started: number[] = [];
      const group = new GroupCommit<number>(async (items) => void started.push(...items), async (item) => void started.push(item), 30);
      const first = group.commit(1);
      await jest.advanceTimersByTimeAsync(0);
      await first;
      const second = group.commit(2);
      await jest.advanceTimersByTimeAsync(29);
      expect(started).toEqual([1]);
      await jest.advanceTimersByTimeAsync(1);
      await second;
      expect(started).toEqual([1, 2]);
    } finally {
      jest.useRealTimers();
    }
  });
});
