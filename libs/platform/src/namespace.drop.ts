import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { BlobStore } from '@chat/storage';

/** Where a namespace lives: every NATS server, every Redis node (one, or a cluster's seeds), its database. */
export interface NamespaceServers {
  natsUrls: string[];
  redisUrls: string[];
  databaseUrl: string;
  blobs: BlobStore;
}

/**
 * Removes everything a namespace wrote: its streams, Redis keys, cold-tier objects and
 * database. For the test runs and benchmark runs that share servers with each other.
 */
export async function dropNamespace(name: string, servers: NamespaceServers): Promise<void> {
  const nc = await connect({ servers: servers.natsUrls });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(`${name}_`)) await jsm.streams.delete(s.config.name);
    }
  } finally {
    await nc.close();
  }
  // Each node is scanned for its own keys, which it deletes one per command (a Redis
  // Cluster node refuses a DEL across slots).
  for (const url of servers.redisUrls) {
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
  try {
    for await (const o of servers.blobs.list(`${name}/`)) await servers.blobs.delete(o.key);
  } catch {
    // no bucket yet: nothing was archived
  }
  const database = new URL(servers.databaseUrl);
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
