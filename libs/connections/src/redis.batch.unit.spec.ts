import { slices } from './redis.batch';

describe('slices', () => {
  it('cuts items into arrays of the size, the last one shorter, and none for nothing', () => {
    expect([...slices([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...slices([1, 2, 3, 4], 2)]).toEqual([[1, 2], [3, 4]]);
    expect([...slices([], 3)]).toEqual([]);
  });

  it('reads its source only as far as the slices taken so far', () => {
    let read = 0;
    function* source() {
      for (let i = 0; i < 10; i++) yield (read++, i);
    }
    const it = slices(source(), 3);
    expect(it.next().value).toEqual([0, 1, 2]);
    expect(read).toBe(3);
    expect(it.next().value).toEqual([3, 4, 5]);
    expect(read).toBe(6);
  });
});
