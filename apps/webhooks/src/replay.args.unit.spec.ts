import { parseReplayArgs } from './replay.args';

describe('parseReplayArgs', () => {
  it('takes a seq or an ISO time with a zone, every partition by default, and follows by default', () => {
    expect(parseReplayArgs(['--from', '120'], 4)).toEqual({ from: { seq: 120 }, follow: true });
    expect(parseReplayArgs(['--from=2025-01-31T12:00:00Z', '--no-follow'], 4)).toEqual({ from: { time: new Date('2025-01-31T12:00:00.000Z') }, follow: false });
    expect(parseReplayArgs(['--from', '2025-01-31T13:00:00.5+01:00'], 4)).toEqual({ from: { time: new Date('2025-01-31T12:00:00.500Z') }, follow: true });
    expect(parseReplayArgs(['--partitions', '0,2-3', '--from', '1'], 4)).toEqual({ from: { seq: 1 }, partitions: [0, 2, 3], follow: true });
  });

  it.each([
    [[], /--from is required/],
    [['--from'], /needs a seq/],
    [['--from', '0'], /at least 1/],
    [['--from', '-3'], /not a seq nor an ISO time/],
    [['--from', 'yesterday'], /not a seq nor an ISO time/],
    [['--from', '2025-01-31T12:00:00'], /not a seq nor an ISO time/],
    [['--from', '2025-02-30T12:00:00Z'], /not a seq nor an ISO time/],
    [['--from', '1', '--partitions', '4'], /partition 4 does not exist/],
    [['--from', '1', '--partitions', '3-1'], /expected partitions/],
    [['--from', '1', '--verbose'], /unknown argument/],
  ])('refuses %j', (argv, reason) => {
    expect(parseReplayArgs(argv as string[], 4)).toMatch(reason);
  });
});
