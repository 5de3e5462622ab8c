import { judgeAck, probeOrder, SuspectStreams } from './ack.suspicion';

describe('SuspectStreams', () => {
  it('starts with every stream suspect and trusts one after K acks in a row found right', () => {
    const s = new SuspectStreams(3);
    expect(s.trusts('A')).toBe(false);
    s.verified('A');
    s.verified('A');
    expect(s.trusts('A')).toBe(false);
    s.verified('A');
    expect(s.trusts('A')).toBe(true);
    expect(s.trusts('B')).toBe(false);
  });

  it('a sign of a leader change makes a trusted stream suspect again, and the count starts over', () => {
    const s = new SuspectStreams(2);
    s.verified('A');
    s.verified('A');
    expect(s.trusts('A')).toBe(true);
    s.suspect('A');
    expect(s.trusts('A')).toBe(false);
    s.verified('A');
    expect(s.trusts('A')).toBe(false);
    s.verified('A');
    expect(s.trusts('A')).toBe(true);
  });

  it('a wrong ack resets the run of right ones', () => {
    const s = new SuspectStreams(3);
    s.verified('A');
    s.verified('A');
    s.mismatched('A');
    s.verified('A');
    s.verified('A');
    expect(s.trusts('A')).toBe(false);
    s.verified('A');
    expect(s.trusts('A')).toBe(true);
  });

  it('suspectAll (a reconnect) makes every trusted stream suspect', () => {
    const s = new SuspectStreams(1);
    s.verified('A');
    s.verified('B');
    s.suspectAll();
    expect(s.trusts('A')).toBe(false);
    expect(s.trusts('B')).toBe(false);
  });

  it('a suspicion of one stream leaves the others trusted', () => {
    const s = new SuspectStreams(1);
    s.verified('A');
    s.verified('B');
    s.suspect('A');
    expect(s.trusts('B')).toBe(true);
  });
});

describe('probeOrder', () => {
  it('reads the nearest seqs first, below before above, up to the bound', () => {
    expect(probeOrder(10, 3)).toEqual([9, 11, 8, 12, 7, 13]);
  });

  it('never probes below seq 1', () => {
    expect(probeOrder(2, 3)).toEqual([1, 3, 4, 5]);
  });
});

describe('judgeAck', () => {
  it('an entry at the acked seq that is the send: right', () => {
    expect(judgeAck(7, true, [])).toEqual({ kind: 'right', seq: 7 });
  });

  it('the send found at a nearby seq: moved there (the nearest that holds it)', () => {
    const probes = [
      { seq: 6, holds: true },
      { seq: 8, holds: false },
    ];
    expect(judgeAck(7, false, probes)).toEqual({ kind: 'moved', acked: 7, seq: 6 });
    expect(judgeAck(7, false, [{ seq: 6, holds: false }, { seq: 8, holds: true }])).toEqual({ kind: 'moved', acked: 7, seq: 8 });
  });

  it('not found within the bound: unknown, never ok', () => {
    expect(judgeAck(7, false, [{ seq: 6, holds: false }, { seq: 8, holds: false }])).toEqual({ kind: 'unknown', acked: 7 });
  });

  it('the acked seq unreadable: unknown', () => {
    expect(judgeAck(7, undefined, [])).toEqual({ kind: 'unknown', acked: 7 });
  });

  it('a nearer probe unreadable: unknown, even if a farther one holds the send', () => {
    expect(judgeAck(7, false, [{ seq: 6, holds: undefined }, { seq: 8, holds: true }])).toEqual({ kind: 'unknown', acked: 7 });
  });
});
