import { Client } from 'pg';
import { PROJECTION_LOCK } from '@chat/storage';
import type { TestNamespace } from './namespace';

/** A lock held from outside the system, until `release()`. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes `LOCK TABLE <table> IN <mode> MODE` in an open transaction on the namespace's
 * database: writers of the table (the projector's commit) wait until `release()`, while
 * readers go on under the default EXCLUSIVE mode. `release()` is idempotent; call it in a
 * `finally`.
 */
export function holdTableLock(ns: TestNamespace, table: string, mode = 'EXCLUSIVE'): Promise<HeldLock> {
  return holdInTransaction(new Client({ connectionString: ns.databaseUrl, options: '-c search_path=timeline,public' }), `LOCK TABLE ${table} IN ${mode} MODE`);
}

/**
 * Holds the projection's swap lock (PROJECTION_LOCK) shared, as every live commit does, in
 * an open transaction: a rebuild reaches its swap and waits there until `release()`.
 */
export function holdSwapLock(ns: TestNamespace): Promise<HeldLock> {
  return holdInTransaction(new Client({ connectionString: ns.databaseUrl }), `SELECT pg_advisory_xact_lock_shared(${PROJECTION_LOCK})`);
}

async function holdInTransaction(pg: Client, statement: string): Promise<HeldLock> {
  await pg.connect();
  try {
    await pg.query('BEGIN');
    await pg.query(statement);
  } catch (err) {
    await pg.end();
    throw err;
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      try {
        await pg.query('COMMIT');
      } finally {
        await pg.end();
      }
    },
  };
}

/** Whether a session is waiting for a lock on `table` of the namespace's database (the projector is blocked on it). */
export async function someoneWaitsOn(ns: TestNamespace, table: string): Promise<boolean> {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  try {
    const { rows } = await pg.query(
      `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted AND c.relname = $1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [table],
    );
    return rows.length > 0;
  } finally {
    await pg.end();
  }
}
