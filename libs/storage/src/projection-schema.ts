import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, quoteIdent } from './database';
import { monthPartitionsSql } from './archive.repository';
import { migrationsDir } from './migrate';

/** The projection whose tables every repository reads; also its schema's name. */
export const TIMELINE = 'timeline';
/** The full-text index of messages (deploy/projections/search.sql); also its schema's name. */
export const SEARCH = 'search';
/** Every projection rebuilt by `npm run replay -- <name>`. */
export const PROJECTIONS = [TIMELINE, SEARCH] as const;
export type Projection = (typeof PROJECTIONS)[number];

/**
 * Held shared by every projector commit and exclusively by a rebuild's swap, so that the
 * swap happens between two batches, never inside one.
 */
export const PROJECTION_LOCK = 7243002;
/** PROJECTION_LOCK's counterpart for the search projection's commits and swap. */
export const SEARCH_PROJECTION_LOCK = 7243005;

/** The advisory lock that a projection's commits share and its rebuild's swap takes. */
export function swapLockOf(projection: string): number {
  return projection === SEARCH ? SEARCH_PROJECTION_LOCK : PROJECTION_LOCK;
}

export function projectionDdl(projection: string): { sql: string; hash: string } {
  const sql = readFileSync(join(migrationsDir(), '..', 'projections', `${projection}.sql`), 'utf8');
  return { sql, hash: createHash('sha256').update(sql).digest('hex').slice(0, 16) };
}

export async function dropSchema(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}

/** Creates `schema` and the projection's tables in it. */
export async function createProjectionTables(client: PoolClient, projection: string, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  await client.query(`SET LOCAL search_path = ${quoteIdent(schema)}`);
  await client.query(projectionDdl(projection).sql);
  // Only the timeline is partitioned by month (its hot tier).
  if (projection === TIMELINE) for (const sql of monthPartitionsSql(new Date())) await client.query(sql);
  await client.query('SET LOCAL search_path = public');
}

/**
 * Makes sure the live schema of a projection exists and was built with the current DDL.
 * A projection built with an older DDL is not migrated in place: it is rebuilt from the
 * log (`npm run replay -- <projection>`), which is what read models are for.
 */
export async function ensureProjectionSchema(pool: Pool, projection: string): Promise<void> {
  const { hash } = projectionDdl(projection);
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(7243001)');
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [projection]);
    const version = await client.query<{ ddl_hash: string }>('SELECT ddl_hash FROM public.projection_versions WHERE projection = $1', [projection]);
    if (exists.rowCount === 0) {
      await createProjectionTables(client, projection, projection);
      await client.query(
        `INSERT INTO public.projection_versions (projection, ddl_hash) VALUES ($1, $2)
         ON CONFLICT (projection) DO UPDATE SET ddl_hash = excluded.ddl_hash, built_at = now()`,
        [projection, hash],
      );
    } else if (version.rows[0]?.ddl_hash !== hash) {
      throw new Error(
        `projection ${projection} was built with another version of deploy/projections/${projection}.sql: ` +
          `rebuild it from the log with \`npm run replay -- ${projection}\``,
      );
    }
  });
}

/**
 * Swaps a freshly built schema in for the live one, inside the caller's transaction (which
 * holds PROJECTION_LOCK exclusively). Returns the name the old schema now has, to drop.
 */
export async function swapProjectionSchema(client: PoolClient, projection: string, fresh: string): Promise<string | undefined> {
  const live = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [projection]);
  const retired = live.rowCount ? `${projection}_retired_${Date.now()}` : undefined;
  if (retired) await client.query(`ALTER SCHEMA ${quoteIdent(projection)} RENAME TO ${quoteIdent(retired)}`);
  await client.query(`ALTER SCHEMA ${quoteIdent(fresh)} RENAME TO ${quoteIdent(projection)}`);
  await client.query(
    `INSERT INTO public.projection_versions (projection, ddl_hash) VALUES ($1, $2)
     ON CONFLICT (projection) DO UPDATE SET ddl_hash = excluded.ddl_hash, built_at = now()`,
    [projection, projectionDdl(projection).hash],
  );
  return retired;
}
