import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Names } from '@chat/messaging';
import { ConnectionRegistry, leaseMember, RENEW_BATCH } from './connection.registry';

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

  it('admits a batch of many users with the cap counted in the script, and releases a batch with one transition per user', async () => {
    const epoch = await registry.nextEpoch('gw2');
    const users = Array.from({ length: 30 }, (_, i) => `b${i}`);
    const lease = (u: string, device: string) => ({ userId: u, member: leaseMember('gw2', epoch, `${u}-${device}`) });
    // Three devices of each user in one batch, against a cap of two: the third is refused.
    const ups = await registry.connectMany(users.flatMap((u) => [lease(u, 'a'), lease(u, 'b'), lease(u, 'c')]), { cap: 2 });
    expect(ups).toEqual(users.flatMap(() => ['online', 'live', 'refused']));
    expect(await Promise.all(users.map((u) => registry.liveConnections(u)))).toEqual(users.map(() => 2));
    // The lease index holds every user until its leases run out, where the sweeper looks.
    const index = names.leaseIndexKey(names.leaseIndexShard('b7'));
    expect(Number(await redis.zscore(index, 'b7'))).toBeGreaterThan(Date.now());

    // Both devices of the even users leave in one batch, one device of the odd ones.
    const leaving = users.flatMap((u, i) => (i % 2 === 0 ? [lease(u, 'a'), lease(u, 'b')] : [lease(u, 'a')]));
    const downs = await registry.disconnectMany(leaving);
    expect(downs).toEqual(users.flatMap((_, i) => (i % 2 === 0 ? [undefined, 'offline'] : [undefined])));
    expect((await registry.presence(users)).map((p) => p.status)).toEqual(users.map((_, i) => (i % 2 === 0 ? 'offline' : 'online')));
    expect(await registry.sweep()).toEqual([]);
  });

  it('renews more leases than a heartbeat slice holds, and brings back exactly the users whose leases Redis lost', async () => {
    const epoch = await registry.nextEpoch('gw3');
    const users = Array.from({ length: RENEW_BATCH * 2 + 37 }, (_, i) => `r${i}`);
    const leases = users.map((u) => ({ userId: u, connectionId: `${u}-c`, member: leaseMember('gw3', epoch, `${u}-c`) }));
    expect(new Set(await registry.connectMany(leases))).toEqual(new Set(['online']));
    // What a flush does to some of them, spread over every slice and script.
    const lost = users.filter((_, i) => i % 97 === 0);
    await redis.del(...lost.flatMap((u) => [names.leasesKey(u), names.presenceStateKey(u)]));
    expect(await registry.liveConnections(lost[3]!)).toBe(0);

    const back = await registry.renew(leases);
    expect(back).toEqual(lost.map((userId) => ({ userId, transition: 'online' })));
    expect(await Promise.all(users.map((u) => registry.liveConnections(u)))).toEqual(users.map(() => 1));
    const [last] = await registry.leases(users.at(-1)!);
    expect(Date.parse(last!.expiresAt)).toBeGreaterThan(Date.now() + 20_000);
  });
});
