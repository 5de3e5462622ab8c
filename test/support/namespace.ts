import { randomBytes } from 'node:crypto';
import { dropNamespace as dropNamespaceOn } from '@chat/platform';
import { BlobStore } from '@chat/storage';

export const SHARED = {
  nats: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  postgres: process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  redis: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  s3: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569',
};

/** CHAT_NATS_URL is a comma-separated list (one URL per node of a NATS cluster). */
export const natsServers = (url: string): string[] => url.split(',').map((u) => u.trim()).filter(Boolean);

export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** One test run's private slice of the shared NATS, Postgres and Redis. */
export interface TestNamespace {
  name: string;
  databaseUrl: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** For tests that send as fast as they can: the limits are tested on their own. */
export const UNLIMITED = { CHAT_SEND_RATE: '1000000', CHAT_SEND_BURST: '1000000', CHAT_EVENT_RATE: '1000000', CHAT_EVENT_BURST: '1000000' };

/**
 * `extraEnv` may point the namespace at other servers (private ones of a fault test):
 * CHAT_NATS_URL, CHAT_REDIS_URL, and CHAT_DATABASE_URL naming the database to use.
 */
export function createNamespace(label: string, extraEnv: Record<string, string> = {}): TestNamespace {
  const name = `t_${label.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = extraEnv.CHAT_DATABASE_URL ?? `${SHARED.postgres}/${name}`;
  const env = {
    CHAT_NAMESPACE: name,
    CHAT_DATABASE_URL: databaseUrl,
    CHAT_NATS_URL: SHARED.nats,
    CHAT_REDIS_URL: SHARED.redis,
    CHAT_JWT_SECRET: TEST_JWT_SECRET,
    CHAT_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    CHAT_PARTITIONS: '4',
    CHAT_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  return {
    name,
    databaseUrl,
    env,
    cleanup: () => dropNamespace(name, { nats: env.CHAT_NATS_URL, redis: env.CHAT_REDIS_URL, database: databaseUrl }),
  };
}

/** Removes the namespace's streams, Redis keys, S3 objects and database, on the servers given (the shared ones by default). */
export async function dropNamespace(name: string, servers: { nats?: string; redis?: string; database?: string } = {}): Promise<void> {
  const blobs = new BlobStore({ endpoint: SHARED.s3, bucket: 'chat', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  try {
    await dropNamespaceOn(name, {
      natsUrls: natsServers(servers.nats ?? SHARED.nats),
      redisUrls: (servers.redis ?? SHARED.redis).split(',').map((u) => u.trim()).filter(Boolean),
      databaseUrl: servers.database ?? `${SHARED.postgres}/${name}`,
      blobs,
    });
  } finally {
    blobs.close();
  }
}
