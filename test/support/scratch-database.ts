import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool, ensureDatabase } from '../../libs/storage/src/database';
import { migrate } from '../../libs/storage/src/migrate';
import { ensureProjectionSchema, TIMELINE } from '../../libs/storage/src/projection-schema';

const PG = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface ScratchDatabase {
  /** Set by the file's first beforeAll: read it inside hooks and tests, not at describe time. */
  readonly pool: Pool;
  readonly url: string;
}

/**
 * A database of the spec file's own, migrated and with the timeline projection built
 * (unless `schema: false`, for a spec that checks those steps itself), dropped when the
 * file ends. Call it at describe scope, before the file's own beforeAll, which may then use it.
 */
export function useScratchDatabase(prefix: string, opts: { poolSize?: number; schema?: boolean } = {}): ScratchDatabase {
  const url = `${PG}/${prefix}_${randomBytes(4).toString('hex')}`;
  let pool: Pool | undefined;
  beforeAll(async () => {
    await ensureDatabase(url);
    pool = createPool(url, opts.poolSize ?? 4, TIMELINE);
    if (opts.schema !== false) {
      await migrate(pool);
      await ensureProjectionSchema(pool, TIMELINE);
    }
  });
  afterAll(async () => {
    await pool?.end();
    const admin = new Client({ connectionString: `${PG}/postgres` });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });
  return {
    url,
    get pool() {
      if (!pool) throw new Error('the scratch database is made in beforeAll: use it inside hooks and tests');
      return pool;
    },
  };
}
