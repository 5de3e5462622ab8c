import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Pool } from 'pg';

/** `deploy/migrations`, found from wherever this file runs (sources or dist/). */
export function migrationsDir(from = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'deploy', 'migrations');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`no deploy/migrations above ${from}`);
}

/** Applies the plain SQL files in name order, each once, under an advisory lock, in schema public. */
export async function migrate(pool: Pool, dir = migrationsDir()): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(7243001)');
    await client.query('CREATE TABLE IF NOT EXISTS public.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM public.schema_migrations')).rows.map((r) => r.name));
    for (const file of files.filter((f) => !done.has(f))) {
      await client.query('BEGIN');
      try {
        // Migrations hold what is not derived from the log: always in public.
        await client.query('SET LOCAL search_path = public');
        await client.query(readFileSync(join(dir, file), 'utf8'));
        await client.query('INSERT INTO public.schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
        applied.push(file);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7243001)').catch(() => undefined);
    client.release();
  }
  return applied;
}
