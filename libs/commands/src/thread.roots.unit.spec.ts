import { ThreadRoots } from './thread.roots';

const root = { senderId: 'u1', deleted: false, reactions: {}, inThread: false };

describe('ThreadRoots', () => {
  it('remembers a root a reply may go to, per conversation and seq', () => {
    const roots = new ThreadRoots();
    roots.remember('c1', 5, root);
    expect(roots.get('c1', 5)).toEqual(root);
    expect(roots.get('c1', 6)).toBeUndefined();
    expect(roots.get('c2', 5)).toBeUndefined();
  });

  it('never keeps a reply or a deleted message, so their refusal is looked up again', () => {
    const roots = new ThreadRoots();
    roots.remember('c1', 5, { ...root, inThread: true });
    roots.remember('c1', 6, { ...root, deleted: true });
    expect(roots.get('c1', 5)).toBeUndefined();
    expect(roots.get('c1', 6)).toBeUndefined();
  });

  it('forgets a root deleted through this process', () => {
    const roots = new ThreadRoots();
    roots.remember('c1', 5, root);
    roots.forget('c1', 5);
    expect(roots.get('c1', 5)).toBeUndefined();
  });

  it('drops the least recently used root when full', () => {
    const roots = new ThreadRoots();
    for (let seq = 1; seq <= 10_000; seq++) roots.remember('c1', seq, root);
    roots.get('c1', 1);
    roots.remember('c1', 10_001, root);
    expect(roots.get('c1', 1)).toEqual(root);
    expect(roots.get('c1', 2)).toBeUndefined();
    expect(roots.get('c1', 10_001)).toEqual(root);
  });
});
