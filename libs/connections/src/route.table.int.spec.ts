import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Names } from '@chat/messaging';
import { ConnectionRegistry, leaseMember } from './connection.registry';
import { RouteTable } from './route.table';

describe('RouteTable on a real Redis', () => {
  const names = new Names(`t_routes_${randomBytes(4).toString('hex')}`, 1);
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const gateway = new ConnectionRegistry(redis, names);
  afterAll(async () => {
    const keys = await redis.keys(names.redisPattern());
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** node -> users, sorted, so that comparisons do not depend on Redis's reply order. */
  const sorted = (m: Map<string, string[]>) => new Map([...m].sort(([a], [b]) => a.localeCompare(b)).map(([n, users]) => [n, [...users].sort()]));

  const freshTable = async () => {
    const table = new RouteTable(new ConnectionRegistry(redis, names));
    await table.refresh();
    return table;
  };

  it('follows connects and disconnects on other nodes once refreshed, without asking Redis for known users', async () => {
    const e1 = await gateway.nextEpoch('n1');
    const e2 = await gateway.nextEpoch('n2');
    await gateway.connect('amy', leaseMember('n1', e1, 'c1'));
    const table = await freshTable();
    expect(sorted(await table.nodesOf(['amy', 'bob']))).toEqual(new Map([['n1', ['amy']]]));
    expect(table.size).toBe(2);

    // Known users are answered from memory: a change nobody announced is not seen...
    await redis.zadd(names.leasesKey('bob'), Date.now() + 60_000, leaseMember('n2', e2, 'sneaky'));
    expect(await table.online(['amy', 'bob'])).toEqual(new Set(['amy']));
    await redis.del(names.leasesKey('bob'));

    // ...while every change the registry makes is, after a refresh.
    await gateway.connect('bob', leaseMember('n2', e2, 'c2'));
    await gateway.connect('amy', leaseMember('n2', e2, 'c3'));
    await table.refresh();
    expect(sorted(await table.nodesOf(['amy', 'bob']))).toEqual(new Map([['n1', ['amy']], ['n2', ['amy', 'bob']]]));
    await gateway.disconnect('amy', leaseMember('n1', e1, 'c1'));
    await table.refresh();
    expect(sorted(await table.nodesOf(['amy', 'bob']))).toEqual(new Map([['n2', ['amy', 'bob']]]));
  });

  it('drops a crashed node\'s users once the sweep expires their leases, and fences a restarted node\'s old epoch', async () => {
    const epoch = await gateway.nextEpoch('dead');
    const now = Date.now();
    await gateway.connect('cat', leaseMember('dead', epoch, 'c1'), now);
    const table = await freshTable();
    expect(await table.online(['cat'])).toEqual(new Set(['cat']));
    // The node stops renewing; a live gateway's sweep runs after the lease ran out.
    await gateway.sweep(now + 26_000);
    await table.refresh();
    expect(await table.online(['cat'])).toEqual(new Set());

    const old = await gateway.nextEpoch('again');
    await gateway.connect('dan', leaseMember('again', old, 'c1'));
    expect(await table.online(['dan'])).toEqual(new Set(['dan']));
    await gateway.nextEpoch('again');
    // Epochs are cached for a second by the registry; a fresh reader sees the restart at once.
    expect(await (await freshTable()).online(['dan'])).toEqual(new Set());
  });

  it('starts afresh when Redis lost the feed, or when entries it never read were trimmed', async () => {
    const epoch = await gateway.nextEpoch('n3');
    const table = await freshTable();
    expect(await table.online(['eve'])).toEqual(new Set());
    // A flush: the feed and its counter are gone; the heartbeat re-creates the lease.
    await redis.del(names.routeFeedKey(), names.routeFeedCounterKey());
    await redis.zadd(names.leasesKey('eve'), Date.now() + 60_000, leaseMember('n3', epoch, 'c1'));
    await table.refresh();
    expect(await table.online(['eve'])).toEqual(new Set(['eve']));

    // An entry the reader never saw (trimmed): the next one's number jumps, so nothing known is trusted.
    await redis.del(names.leasesKey('eve'));
    await redis.incr(names.routeFeedCounterKey());
    await gateway.connect('fay', leaseMember('n3', epoch, 'c2'));
    await table.refresh();
    expect(await table.online(['eve', 'fay'])).toEqual(new Set(['fay']));
  });
});
