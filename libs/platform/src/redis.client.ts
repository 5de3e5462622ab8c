import { Cluster, Redis } from 'ioredis';
import type { Config } from '@chat/config';
import type { RedisClient } from '@chat/connections';

const retry = (times: number) => Math.min(times * 100, 2_000);

/**
 * The Redis client of CHAT_REDIS_URL: one server, or with CHAT_REDIS_CLUSTER=1 a Redis
 * Cluster found from its seed nodes. The registry issues one command per key rather than
 * pipelines (a cluster pipeline must stay in one slot); ioredis writes them without
 * waiting for replies either way, and on a cluster auto-pipelining also groups them per
 * node into one write.
 */
export function createRedis(config: Pick<Config, 'CHAT_REDIS_URL' | 'CHAT_REDIS_CLUSTER'>): RedisClient {
  if (!config.CHAT_REDIS_CLUSTER) {
    return new Redis(config.CHAT_REDIS_URL[0]!, {
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      retryStrategy: retry,
    });
  }
  const seeds = config.CHAT_REDIS_URL.map((u) => new URL(u));
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      enableAutoPipelining: true,
      clusterRetryStrategy: retry,
      // A slot moving to a replica during a failover: follow it.
      retryDelayOnFailover: 100,
      redisOptions: {
        maxRetriesPerRequest: 2,
        connectTimeout: 5_000,
        ...(first.username && { username: decodeURIComponent(first.username) }),
        ...(first.password && { password: decodeURIComponent(first.password) }),
        ...(first.protocol === 'rediss:' && { tls: {} }),
      },
    },
  );
}
