import { ActivityLog } from './activity.log';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('ActivityLog', () => {
  it('writes each user once per flush, at its latest activity, and nothing when nothing was noted', async () => {
    const writes: Array<Map<string, Date>> = [];
    const log = new ActivityLog(async (batch) => void writes.push(new Map(batch)));
    log.note('ann', at(5));
    log.note('bob', at(1));
    log.note('ann', at(3)); // older than what is noted: kept at 5
    log.note('bob', at(2));
    await log.flush();
    await log.flush();
    expect(writes).toEqual([new Map([['ann', at(5)], ['bob', at(2)]])]);
    expect(log.size).toBe(0);
  });

  it('keeps what a failed flush held, merged with what came since, for the next flush', async () => {
    const writes: Array<Map<string, Date>> = [];
    let fail = true;
    const log = new ActivityLog(async (batch) => {
      if (fail) throw new Error('postgres down');
      writes.push(new Map(batch));
    });
    log.note('ann', at(5));
    log.note('bob', at(5));
    const failing = log.flush();
    log.note('bob', at(9)); // while the write is under way
    log.note('cid', at(1));
    await expect(failing).rejects.toThrow('postgres down');
    fail = false;
    await log.flush();
    expect(writes).toEqual([new Map([['bob', at(9)], ['cid', at(1)], ['ann', at(5)]])]);
  });

  it('runs one flush at a time: a second caller waits, then writes what came meanwhile', async () => {
    const writes: Array<string[]> = [];
    let release!: () => void;
    const log = new ActivityLog(async (batch) => {
      writes.push([...batch.keys()]);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    });
    log.note('ann', at(1));
    const first = log.flush();
    log.note('bob', at(2));
    const second = log.flush();
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([['ann']]);
    release();
    await Promise.all([first, second]);
    expect(writes).toEqual([['ann'], ['bob']]);
  });
});
