import type { NatsConnection } from '@nats-io/nats-core';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';

const CHECK_TIMEOUT_MS = 1_000;

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    work.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** Whether this process's NATS, Postgres and Redis answer: `up`, or `down: why`, by name. */
export async function checkDependencies(nc: NatsConnection, pool: Pool, redis: Redis): Promise<Record<string, string>> {
  const checks: Record<string, () => Promise<unknown>> = {
    nats: () => nc.flush(),
    postgres: () => pool.query('SELECT 1'),
    redis: () => redis.ping(),
  };
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await within(CHECK_TIMEOUT_MS, check());
        return [name, 'up'] as const;
      } catch (err) {
        return [name, `down: ${(err as Error).message}`] as const;
      }
    }),
  );
  return Object.fromEntries(results);
}
