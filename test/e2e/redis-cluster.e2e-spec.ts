import type { Cluster } from 'ioredis';
import { ConnectionRegistry, LEASE_MS, leaseMember } from '@chat/connections';
import { Names } from '@chat/messaging';
import { createRedis } from '@chat/platform';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { startSystem } from '../support/system';
import { waitFor } from '../support/wait';

/** The connection registry and presence on a real Redis Cluster (CHAT_REDIS_CLUSTER=1). */
jest.setTimeout(60_000);

let redisCluster: RedisCluster;
beforeAll(async () => {
  redisCluster = await startRedisCluster(3);
});
afterAll(async () => {
  await redisCluster?.stop();
});

describe('the connection registry on a 3-master Redis Cluster', () => {
  let redis: Cluster;
  const names = new Names('rc', 4);
  beforeAll(() => {
    redis = createRedis({ CHAT_REDIS_URL: redisCluster.urls.split(','), CHAT_REDIS_CLUSTER: true }) as Cluster;
  });
  afterAll(() => redis?.disconnect());

  it('is a cluster that refuses a script over two slots (what the registry must never do)', async () => {
    await expect(redis.eval(`return redis.call('EXISTS', KEYS[1], KEYS[2])`, 2, names.leasesKey('u1'), 'rc:leases')).rejects.toThrow(/CROSSSLOT|same slot/);
  });

  it('spreads the users it registers over every master, and reports each transition once', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
    const slots = (await redis.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
    const ownerOf = async (key: string) => {
      const slot = Number(await redis.cluster('KEYSLOT', key));
      return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    };
    const owners = new Set(await Promise.all(users.map((u) => ownerOf(names.leasesKey(u)))));
    expect(owners.size).toBe(3);

    const registry = new ConnectionRegistry(redis, names);
    const epoch = await registry.nextEpoch('gwA');
    const phone = (u: string) => leaseMember('gwA', epoch, `${u}-phone`);
    const laptop = (u: string) => leaseMember('gwA', epoch, `${u}-laptop`);

    expect(await Promise.all(users.map((u) => registry.connect(u, phone(u))))).toEqual(users.map(() => 'online'));
    expect(await Promise.all(users.map((u) => registry.connect(u, laptop(u))))).toEqual(users.map(() => undefined));
    expect((await registry.nodesOf(users)).get('gwA')?.sort()).toEqual([...users].sort());
    expect((await registry.presence(users)).every((p) => p.status === 'online')).toBe(true);
    expect(await registry.liveConnections('user7')).toBe(2);

    // Devices leave: the user goes offline with its last connection only.
    expect(await registry.disconnect('user1', phone('user1'))).toBeUndefined();
    expect(await registry.disconnect('user1', laptop('user1'))).toBe('offline');
    expect(await registry.presence(['user1'])).toEqual([{ userId: 'user1', status: 'offline', lastSeenAt: expect.any(String) }]);

    // A gateway that dies stops renewing: the sweeper turns its users offline, once.
    const dead = Array.from({ length: 20 }, (_, i) => `gone${i}`);
    const past = Date.now() - LEASE_MS - 1_000;
    for (const u of dead) expect(await registry.connect(u, leaseMember('gwB', 1, u), past)).toBe('online');
    const swept = await registry.sweep();
    expect(swept.sort()).toEqual([...dead].sort());
    expect(await registry.sweep()).toEqual([]);
    // Live users were not swept; after a restart of Redis state, renewing brings users back.
    expect((await registry.presence(users.slice(2))).every((p) => p.status === 'online')).toBe(true);
    const back = await registry.renew(dead.slice(0, 3).map((u) => ({ userId: u, connectionId: u, member: leaseMember('gwB', 2, u) })));
    expect(back).toEqual(dead.slice(0, 3).map((u) => ({ userId: u, transition: 'online' })));
  });

  it('admits and releases the connections of many users at once, the cap checked per user on its own slot', async () => {
    const registry = new ConnectionRegistry(redis, names);
    const epoch = await registry.nextEpoch('gwC');
    const users = Array.from({ length: 40 }, (_, i) => `batch${i}`);
    const first = users.map((u) => ({ userId: u, member: leaseMember('gwC', epoch, `${u}-a`) }));
    const second = users.map((u) => ({ userId: u, member: leaseMember('gwC', epoch, `${u}-b`) }));
    // One batch: each user's first connection, then its second, against a cap of one.
    expect(await registry.connectMany([...first, ...second], { cap: 1 })).toEqual([...users.map(() => 'online'), ...users.map(() => 'refused')]);
    expect(await registry.connectMany(first, { cap: 1 })).toEqual(users.map(() => 'live')); // renewing a held lease is never refused
    expect((await registry.nodesOf(users)).get('gwC')?.sort()).toEqual([...users].sort());
    expect(await registry.disconnectMany(first)).toEqual(users.map(() => 'offline'));
    expect((await registry.presence(users)).every((p) => p.status === 'offline')).toBe(true);
  });
});

describe('the system with CHAT_REDIS_CLUSTER=1', () => {
  it('serves presence, typing and delivery with its registry on the cluster', async () => {
    const sys = await startSystem('rediscl', { CHAT_REDIS_URL: redisCluster.urls, CHAT_REDIS_CLUSTER: '1' });
    try {
      const ann = await sys.connect('ann');
      // Presence is for users who share a conversation.
      const { conversation } = await ann.ok('conversation:create', { type: 'direct', members: ['bob'] });
      const { presence } = await ann.ok('presence:subscribe', { userIds: ['bob'] });
      expect(presence).toEqual([{ userId: 'bob', status: 'offline' }]);
      const bob = await sys.connect('bob', { deviceId: 'phone' });
      await waitFor('ann to see bob online', () => ann.presence.some((p) => p.userId === 'bob' && p.status === 'online'));

      await ann.ok('typing', { conversationId: conversation.id, state: 'start' });
      await waitFor('bob to see ann typing', () => bob.typing.some((t) => t.userId === 'ann' && t.state === 'start'));
      const { seq } = await ann.ok('message:send', { conversationId: conversation.id, clientMsgId: 'rc-1', body: 'over the cluster' });
      await waitFor('bob to receive the message', () => bob.messages().some((m) => m.seq === seq && m.body === 'over the cluster'));

      const res = await fetch(`${sys.app.url}/v1/admin/users/bob/connections`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(((await res.json()) as { connections: unknown[] }).connections).toEqual([expect.objectContaining({ node: expect.any(String) })]);

      bob.close();
      await waitFor('ann to see bob offline', () => ann.presence.some((p) => p.userId === 'bob' && p.status === 'offline'));
    } finally {
      await sys.close();
    }
  });
});
