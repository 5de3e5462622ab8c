import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Names } from '@chat/messaging';
import { ConnectionRegistry, leaseMember } from './connection.registry';

describe('ConnectionRegistry on a real Redis', () => {
  const names = new Names(`t_reg_${randomBytes(4).toString('hex')}`, 1);
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const registry = new ConnectionRegistry(redis, names);
  afterAll(async () => {
    const keys = await redis.keys(names.redisPattern());
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('routes to a node again once its heartbeat puts back the epoch Redis lost, and keeps a newer epoch', async () => {
    const epoch = await registry.nextEpoch('gw1');
    const member = leaseMember('gw1', epoch, 'conn1');
    await registry.connect('ann', member);
    // Routing as a projector that has not cached the epoch yet sees it.
    const route = (userIds: string[]) => new ConnectionRegistry(redis, names).nodesOf(userIds);
    expect(await route(['ann'])).toEqual(new Map([['gw1', ['ann']]]));

    // What a FLUSHALL does to the epoch; the heartbeat re-creates the lease and the epoch.
    await redis.del(names.epochKey('gw1'), names.leasesKey('ann'));
    await registry.keepEpoch('gw1', epoch);
    await registry.renew([{ userId: 'ann', connectionId: 'conn1', member }]);
    expect(await route(['ann'])).toEqual(new Map([['gw1', ['ann']]]));

    // A restarted incarnation's newer epoch is not overwritten by the old one's heartbeat.
    const newer = await registry.nextEpoch('gw1');
    await registry.keepEpoch('gw1', epoch);
    expect(Number(await redis.get(names.epochKey('gw1')))).toBe(newer);
  });
});
