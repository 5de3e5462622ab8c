import { OnlineRanges } from './online.ranges';

describe('OnlineRanges', () => {
  it('folds the online decisions of a user in a conversation into one range that counts its messages', () => {
    const r = new OnlineRanges();
    for (const seq of [10, 12, 15]) r.add('bob', 'g_a', seq);
    r.add('bob', 'g_b', 11);
    r.add('cat', 'g_a', 10);
    expect(r.take()).toEqual([
      { userId: 'bob', conversationId: 'g_a', fromSeq: 10, toSeq: 15, messages: 3 },
      { userId: 'bob', conversationId: 'g_b', fromSeq: 11, toSeq: 11, messages: 1 },
      { userId: 'cat', conversationId: 'g_a', fromSeq: 10, toSeq: 10, messages: 1 },
    ]);
    expect(r.take()).toEqual([]);
    expect(r.size).toBe(0);
  });

  it('ends a range at another decision about the same user and conversation, and starts a new one after it', () => {
    const r = new OnlineRanges();
    r.add('bob', 'g_a', 10);
    r.add('bob', 'g_a', 11);
    r.interrupt('bob', 'g_a'); // seq 12: bob was offline, woken
    r.interrupt('bob', 'g_b'); // nothing open there: nothing to end
    r.add('bob', 'g_a', 13);
    expect(r.take()).toEqual([
      { userId: 'bob', conversationId: 'g_a', fromSeq: 10, toSeq: 11, messages: 2 },
      { userId: 'bob', conversationId: 'g_a', fromSeq: 13, toSeq: 13, messages: 1 },
    ]);
  });

  it('does not fold a message that is not past the range (a redelivery, or one retried after later ones) into it', () => {
    const r = new OnlineRanges();
    r.add('bob', 'g_a', 20);
    r.add('bob', 'g_a', 22);
    r.add('bob', 'g_a', 21);
    r.add('bob', 'g_a', 21);
    const ranges = r.take();
    expect(ranges).toEqual([
      { userId: 'bob', conversationId: 'g_a', fromSeq: 20, toSeq: 22, messages: 2 },
      { userId: 'bob', conversationId: 'g_a', fromSeq: 21, toSeq: 21, messages: 1 },
      { userId: 'bob', conversationId: 'g_a', fromSeq: 21, toSeq: 21, messages: 1 },
    ]);
  });

  it('holds ranges given back after a failed write, before the newer ones', () => {
    const r = new OnlineRanges();
    r.add('bob', 'g_a', 1);
    const taken = r.take();
    r.add('bob', 'g_a', 2);
    r.restore(taken);
    expect(r.size).toBe(2);
    expect(r.take().map((x) => x.fromSeq)).toEqual([1, 2]);
  });
});
