import { THREAD_PARTICIPANTS_MAX, withReplies, withReply } from './thread.summary';

const reply = (seq: number, senderId: string) => ({ seq, senderId, sentAt: `T${seq}` });

describe('withReply', () => {
  it('starts a summary with the first reply and moves each new replier to the front, once', () => {
    const one = withReply(undefined, reply(5, 'bob'));
    expect(one).toEqual({ replies: 1, lastReplySeq: 5, lastReplyAt: 'T5', participants: ['bob'] });
    const two = withReply(one, reply(8, 'carol'));
    expect(two).toEqual({ replies: 2, lastReplySeq: 8, lastReplyAt: 'T8', participants: ['carol', 'bob'] });
    expect(withReply(two, reply(9, 'bob'))).toEqual({ replies: 3, lastReplySeq: 9, lastReplyAt: 'T9', participants: ['bob', 'carol'] });
  });

  it('leaves the summary as it is for a reply it counts already (at or before its last reply)', () => {
    const s = { replies: 4, lastReplySeq: 10, lastReplyAt: 'T10', participants: ['dan'] };
    expect(withReply(s, reply(10, 'dan'))).toBe(s);
    expect(withReply(s, reply(7, 'eve'))).toBe(s);
  });

  it(`names at most ${THREAD_PARTICIPANTS_MAX} repliers, the latest`, () => {
    let s = withReply(undefined, reply(1, 'u0'));
    for (let i = 1; i <= 12; i++) s = withReply(s, reply(i + 1, `u${i}`));
    expect(s.replies).toBe(13);
    expect(s.participants).toEqual(['u12', 'u11', 'u10', 'u9', 'u8', 'u7', 'u6', 'u5', 'u4', 'u3']);
  });
});

describe('withReplies', () => {
  it('adds, in seq order, the replies held that the summary does not count yet', () => {
    const s = { replies: 2, lastReplySeq: 6, lastReplyAt: 'T6', participants: ['bob'] };
    expect(withReplies(s, [reply(9, 'carol'), reply(4, 'bob'), reply(6, 'bob'), reply(8, 'dan')])).toEqual({
      replies: 4, lastReplySeq: 9, lastReplyAt: 'T9', participants: ['carol', 'dan', 'bob'],
    });
    expect(withReplies(undefined, [])).toBeUndefined();
  });
});
