import { Client } from 'pg';
import { ensureDatabase } from '@chat/storage';
import { BenchNamespace, startProcess, stopProcess } from '../bench-system';
import { CpuMeter, type SharedService } from '../cpu';
import { oneToOne, type OneToOneResult } from './one-to-one';

/**
 * The naive baseline (bench/naive-socketio.ts: one awaited Postgres INSERT per message,
 * then the relay) on a database of its own, created here and dropped afterwards, driven
 * like the relay and the chat. Reports the rows it wrote, a check on the counters.
 */
export async function naiveBaseline(
  opts: { pairs: number; workers: number; seconds: number; halfSeconds: number; start: number; services: SharedService[] },
  say: (line: string) => void,
): Promise<OneToOneResult & { rows: number }> {
  const ns = new BenchNamespace();
  const databaseUrl = ns.env.CHAT_DATABASE_URL!;
  try {
    await ensureDatabase(databaseUrl);
    const server = await startProcess('naive', 'dist/bench/naive-socketio.js', { BENCH_DATABASE_URL: databaseUrl });
    let result: OneToOneResult;
    try {
      result = await oneToOne({ urls: [server.url], target: 'naive', pairs: opts.pairs, workers: opts.workers, seconds: opts.seconds, halfSeconds: opts.halfSeconds, start: opts.start, cpu: new CpuMeter([server.child.pid!], opts.services) }, say);
    } finally {
      await stopProcess(server);
    }
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      const rows = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM naive_messages')).rows[0]!.n);
      say(`  naive baseline wrote ${rows} rows`);
      return { ...result, rows };
    } finally {
      await pg.end();
    }
  } finally {
    await ns.drop();
  }
}
