import { MemberCache } from './member.cache';

function fakeStore(initial: Record<string, Record<string, number>>) {
  const data = new Map(Object.entries(initial).map(([c, m]) => [c, new Map(Object.entries(m))]));
  const reads: string[][] = [];
  let hold: Promise<void> | undefined;
  return {
    data, reads,
    holdReads() {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
    read: async (ids: string[]) => {
      reads.push([...ids]);
      // The answer is what the store held when it was asked.
      const answer = new Map(ids.filter((id) => data.has(id)).map((id) => [id, new Map(data.get(id)!)]));
      await hold;
      return answer;
    },
  };
}

describe('MemberCache', () => {
  it('reads the conversations it does not hold in one read, and the held ones not again', async () => {
    const store = fakeStore({ g_a: { ann: 1, bob: 1 }, g_b: { cat: 2 } });
    const cache = new MemberCache(store.read);
    expect([...(await cache.membersOf(['g_a', 'g_b', 'g_a', 'g_missing'])).keys()].sort()).toEqual(['g_a', 'g_b']);
    expect((await cache.membersOf(['g_b', 'g_a'])).get('g_a')).toEqual(new Map([['ann', 1], ['bob', 1]]));
    expect(store.reads).toEqual([['g_a', 'g_b', 'g_missing']]);
  });

  it('reads a conversation again after a membership event dropped it', async () => {
    const store = fakeStore({ g_a: { ann: 1 } });
    const cache = new MemberCache(store.read);
    await cache.membersOf(['g_a']);
    store.data.get('g_a')!.set('bob', 9);
    cache.drop('g_a');
    expect((await cache.membersOf(['g_a'])).get('g_a')).toEqual(new Map([['ann', 1], ['bob', 9]]));
    expect(store.reads).toHaveLength(2);
  });

  it('does not keep an answer older than a drop that landed while the read was on its way', async () => {
    const store = fakeStore({ g_a: { ann: 1 } });
    const cache = new MemberCache(store.read);
    const release = store.holdReads();
    const first = cache.membersOf(['g_a']);
    store.data.get('g_a')!.set('bob', 9);
    cache.drop('g_a');
    release();
    await first;
    expect((await cache.membersOf(['g_a'])).get('g_a')!.has('bob')).toBe(true);
  });

  it('forgets the conversations read longest ago once it holds more members than its capacity', async () => {
    const store = fakeStore({ g_a: { ann: 1, bob: 1 }, g_b: { cat: 1, dan: 1 }, g_c: { eve: 1 } });
    const cache = new MemberCache(store.read, 3);
    await cache.membersOf(['g_a']);
    await cache.membersOf(['g_b']);
    expect(cache.size).toBe(1);
    await cache.membersOf(['g_c']);
    expect(cache.size).toBe(2);
    await cache.membersOf(['g_b', 'g_c']);
    expect(store.reads).toEqual([['g_a'], ['g_b'], ['g_c']]);
  });
});
