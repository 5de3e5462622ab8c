import { Client } from 'pg';
import { waitFor } from '../../../test/support/wait';
import { createPool, inTransaction } from './database';

const PG = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

describe('a pool whose server connection dies during a transaction', () => {
  const pool = createPool(`${PG}/postgres`, 2);
  const admin = new Client({ connectionString: `${PG}/postgres` });
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.end();
    await pool.end();
  });

  it('fails the transaction rather than the process, and serves the next query on a fresh connection', async () => {
    const work = inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // As Postgres going down does to every backend.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      // Gone on the server side: its goodbye is on the way to the client, which is idle in the transaction.
      await waitFor('the backend to exit', async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [rows[0]!.pid])).rowCount === 0, 5_000, 10);
      await client.query('SELECT 1');
    });
    await expect(work).rejects.toThrow();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
