import { locateAck, SuspectStreams } from './ack.suspicion';

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

/** A subject's entries (seq -> is it the send), read as STREAM.MSG.GET next_by_subj does; records each read's start. */
function subjectEntries(entries: Record<number, boolean>, failAt?: number) {
  const reads: number[] = [];
  const readNext = async (from: number) => {
    reads.push(from);
    if (failAt !== undefined && from >= failAt) throw new Error('timeout');
    const seq = Object.keys(entries).map(Number).sort((a, b) => a - b).find((s) => s >= from);
    return seq === undefined ? null : { seq, isSend: entries[seq]! };
  };
  return { reads, readNext };
}

describe('locateAck', () => {
  it('an entry at the acked seq that is the send: right, with no more reads', async () => {
    const { reads, readNext } = subjectEntries({});
    await expect(locateAck(7, true, readNext)).resolves.toEqual({ kind: 'right', seq: 7 });
    expect(reads).toEqual([]);
  });

  it("the send one below: found by walking the subject's entries from acked - bound", async () => {
    const { reads, readNext } = subjectEntries({ 3: false, 9: true, 12: false }, undefined);
    await expect(locateAck(10, false, readNext, 8)).resolves.toEqual({ kind: 'moved', acked: 10, seq: 9 });
    expect(reads).toEqual([2, 4]);
  });

  it('an offset of tens (a storm of failed proposals) is found too', async () => {
    const { readNext } = subjectEntries({ 100: false, 170: true });
    await expect(locateAck(200, false, readNext, 64)).resolves.toEqual({ kind: 'moved', acked: 200, seq: 170 });
  });

  it('not within the bound, or the subject ends: unknown, never ok', async () => {
    await expect(locateAck(10, false, subjectEntries({ 9: false, 30: true }).readNext, 8)).resolves.toMatchObject({ kind: 'unknown', acked: 10 });
    await expect(locateAck(10, false, subjectEntries({ 9: false }).readNext, 8)).resolves.toMatchObject({ kind: 'unknown', acked: 10 });
  });

  it('a read that fails, or the acked seq unreadable: unknown', async () => {
    await expect(locateAck(10, false, subjectEntries({ 9: true }, 1).readNext, 8)).resolves.toMatchObject({ kind: 'unknown', why: 'read failed: timeout' });
    await expect(locateAck(10, undefined, subjectEntries({ 10: true }).readNext)).resolves.toMatchObject({ kind: 'unknown', misnamed: false });
  });

  it('gives up after maxReads entries of the subject', async () => {
    const entries = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 1, i === 9]));
    const { reads, readNext } = subjectEntries(entries);
    await expect(locateAck(10, false, readNext, 64, 5)).resolves.toMatchObject({ kind: 'unknown' });
    expect(reads).toHaveLength(5);
  });

  it('never reads below seq 1', async () => {
    const { reads, readNext } = subjectEntries({ 1: true });
    await expect(locateAck(2, false, readNext, 64)).resolves.toEqual({ kind: 'moved', acked: 2, seq: 1 });
    expect(reads).toEqual([1]);
  });
});
