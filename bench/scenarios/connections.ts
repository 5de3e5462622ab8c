import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_SECRET, BenchNamespace, rssKb, startProcess, stopProcess, type BenchProcess } from '../bench-system';

/** Connections per load process: far under the 20,000 open files a process may hold. */
const PER_WORKER = 2_500;

export interface HeldConnections {
  connected: number;
  refused: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConnection: number;
}

/**
 * (a) idle authenticated connections one gateway process holds, and its resident memory
 * per connection, next to a bare Socket.IO server measured the same way (the ceiling).
 */
export async function connectionsScenario(opts: { total: number }, say: (line: string) => void): Promise<{ gateway: HeldConnections; bare: HeldConnections }> {
  const ns = new BenchNamespace();
  try {
    say('  gateway');
    const gateway = await measure(await startProcess('gateway', 'dist/apps/gateway/src/main.js', ns.env), opts.total, 'g', say);
    say('  bare Socket.IO server');
    const bare = await measure(await startProcess('bare', 'dist/bench/bare-socketio.js', {}), opts.total, 'b', say);
    return { gateway, bare };
  } finally {
    await ns.drop();
  }
}

async function measure(server: BenchProcess, total: number, prefix: string, say: (line: string) => void): Promise<HeldConnections> {
  try {
    // Let start-up allocations settle before the baseline.
    await new Promise((r) => setTimeout(r, 2_000));
    const before = rssKb(server.child.pid!);
    const { connected, refused, workers } = await load(server.url, total, prefix, say);
    // Let timers and lease renewals run once with everyone connected.
    await new Promise((r) => setTimeout(r, 6_000));
    const after = rssKb(server.child.pid!);
    for (const w of workers) w.stdin!.end();
    say(`    ${connected} held, ${refused} refused, ${((after - before) / Math.max(1, connected)).toFixed(1)} KiB each`);
    return { connected, refused, rssBeforeKb: before, rssAfterKb: after, kbPerConnection: (after - before) / Math.max(1, connected) };
  } finally {
    await stopProcess(server);
  }
}

/** Opens `total` connections from load processes of PER_WORKER each. */
async function load(url: string, total: number, prefix: string, say: (line: string) => void) {
  const workers: ChildProcess[] = [];
  const progress = new Map<number, number>();
  let refused = 0;
  let lastSaid = 0;
  await Promise.all(
    Array.from({ length: Math.ceil(total / PER_WORKER) }, (_, w) =>
      new Promise<void>((resolve, reject) => {
        const n = Math.min(PER_WORKER, total - w * PER_WORKER);
        const child = spawn(process.execPath, [join(__dirname, '..', 'connection-worker.js')], {
          env: { ...process.env, BENCH_URL: url, BENCH_CONNECTIONS: String(n), BENCH_PREFIX: `${prefix}${w}-`, CHAT_JWT_SECRET: BENCH_SECRET },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        workers.push(child);
        child.once('exit', (code) => reject(new Error(`connection load process exited with ${code}`)));
        let buf = '';
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = JSON.parse(buf.slice(0, nl)) as { connected: number; failed: number; done?: boolean };
            buf = buf.slice(nl + 1);
            progress.set(w, line.connected);
            if (Date.now() - lastSaid > 2000) {
              lastSaid = Date.now();
              say(`    ${[...progress.values()].reduce((a, b) => a + b, 0)} / ${total} connected`);
            }
            if (line.done) {
              refused += line.failed;
              resolve();
            }
          }
        });
      }),
    ),
  );
  return { connected: [...progress.values()].reduce((a, b) => a + b, 0), refused, workers };
}
