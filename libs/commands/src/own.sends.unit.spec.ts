import { OwnSends } from './own.sends';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const now = (s: number) => Date.UTC(2026, 0, 1, 0, 0, s);

describe('OwnSends', () => {
  it('remembers a member\'s last send per conversation, the latest noted winning', () => {
    const sends = new OwnSends();
    sends.note('g1', 'bob', { at: at(1), clientMsgId: 'a', slowModeSeq: 5 });
    sends.note('g1', 'bob', { at: at(2), clientMsgId: 'b', slowModeSeq: 5 });
    sends.note('g2', 'bob', { at: at(3), clientMsgId: 'c', slowModeSeq: 9 });
    expect(sends.get('g1', 'bob', now(4))).toEqual({ at: at(2), clientMsgId: 'b', slowModeSeq: 5 });
    expect(sends.get('g2', 'bob', now(4))?.clientMsgId).toBe('c');
    expect(sends.get('g1', 'cat', now(4))).toBeUndefined();
  });

  it('forgets a send that never reached the log, but not a later one of the same member', () => {
    const sends = new OwnSends();
    sends.note('g1', 'bob', { at: at(1), clientMsgId: 'a', slowModeSeq: 5 });
    sends.forget('g1', 'bob', 'other');
    expect(sends.get('g1', 'bob', now(2))?.clientMsgId).toBe('a');
    sends.forget('g1', 'bob', 'a');
    expect(sends.get('g1', 'bob', now(2))).toBeUndefined();
  });

  it('drops a send older than the longest slow mode (an hour): it can hold nothing back', () => {
    const sends = new OwnSends();
    sends.note('g1', 'bob', { at: at(0), clientMsgId: 'a', slowModeSeq: 5 });
    expect(sends.get('g1', 'bob', now(3600))).toBeDefined();
    expect(sends.get('g1', 'bob', now(3601))).toBeUndefined();
  });
});
