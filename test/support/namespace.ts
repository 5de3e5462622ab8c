import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
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
  const nc = await connect({ servers: natsServers(servers.nats ?? SHARED.nats) });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(`${name}_`)) await jsm.streams.delete(s.config.name);
    }
  } finally {
    await nc.close();
  }
  // One server, or the seed nodes of a Redis Cluster: each is scanned for its own keys,
  // which it deletes one per command (a cluster node refuses a DEL across slots).
  for (const url of (servers.redis ?? SHARED.redis).split(',').map((u) => u.trim()).filter(Boolean)) {
    const redis = new Redis(url);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${name}:*`, 'COUNT', 1000);
        if (keys.length) await keys.reduce((p, key) => p.del(key), redis.pipeline()).exec();
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
  // The cold tier's objects of the namespace.
  const blobs = new BlobStore({ endpoint: SHARED.s3, bucket: 'chat', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  try {
    for await (const o of blobs.list(`${name}/`)) await blobs.delete(o.key);
  } catch {
    // no bucket yet: nothing was archived
  } finally {
    blobs.close();
  }
  const database = new URL(servers.database ?? `${SHARED.postgres}/${name}`);
  const dbName = decodeURIComponent(database.pathname.slice(1));
  database.pathname = '/postgres';
  const pg = new Client({ connectionString: database.toString() });
  await pg.connect();
  try {
    await pg.query(`DROP DATABASE IF EXISTS "${dbName.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await pg.end();
  }
}
