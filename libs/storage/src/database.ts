import { Client, Pool, type PoolClient } from 'pg';

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('CHAT_DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (err) {
        // Two processes starting at once: the other one created it (duplicate_database, or
        // the unique index on pg_database when both got past the check together).
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * A pool whose unqualified table names resolve in `schema` (a projection's), then public.
 * `asyncCommit`: commits do not wait for the WAL flush (only for writes that are redone
 * from the log if lost, such as a rebuild's fresh schema).
 */
export function createPool(url: string, max = 10, schema?: string, opts: { asyncCommit?: boolean } = {}): Pool {
  const settings = [
    ...(schema !== undefined ? [`-c search_path=${quoteIdent(schema)},public`] : []),
    ...(opts.asyncCommit ? ['-c synchronous_commit=off'] : []),
  ];
  const pool = new Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    ...(settings.length > 0 && { options: settings.join(' ') }),
  });
  // An idle client that loses its server emits here; without a listener that would crash the process.
  pool.on('error', () => undefined);
  // A checked-out client (a transaction in progress) has no pool listener: if Postgres goes
  // away meanwhile, its 'error' event would crash the process. The failure still reaches
  // the caller through the query's promise, and the pool drops the broken client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs `work` in one transaction on a pooled client: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** What pg-pool throws when no client was free within connectionTimeoutMillis. */
export function isPoolWaitTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect';
}

/**
 * Runs `work`, and again each time it failed only because every pooled client was busy
 * for connectionTimeoutMillis, until `deadline` (ms since the epoch): a caller that can
 * wait longer than the pool does takes its turn rather than failing. Any other error
 * (Postgres down, a bad query) is thrown at once.
 */
export async function withPoolPatience<T>(work: () => Promise<T>, deadline: number, onWait: () => void = () => undefined): Promise<T> {
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (!isPoolWaitTimeout(err) || Date.now() >= deadline) throw err;
      onWait();
    }
  }
}
