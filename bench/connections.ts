/**
 * `npm run bench:connections [-- --quick]`: how many idle authenticated connections one
 * gateway process holds and its resident memory per connection, against a bare Socket.IO
 * server measured the same way in the same run. Prints a table, writes
 * bench/results/connections.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';

const quick = process.argv.includes('--quick');
const TOTAL = Number(process.env.BENCH_CONNECTIONS ?? (quick ? 3_000 : 15_000));
const PER_WORKER = 2_500;
const ROOT = join(__dirname, '..', '..');
const SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';

const step = (s: string) => process.stdout.write(`[bench:connections] ${s}\n`);
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** The pid of the node process (npm starts it under a shell). */
function nodePid(child: ChildProcess): number {
  return child.pid!;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

/** Opens TOTAL connections from several worker processes; resolves with how many held. */
async function load(url: string, prefix: string): Promise<{ connected: number; workers: ChildProcess[] }> {
  const workers: ChildProcess[] = [];
  const progress = new Map<number, number>();
  let failed = 0;
  await Promise.all(
    Array.from({ length: Math.ceil(TOTAL / PER_WORKER) }, (_, w) =>
      new Promise<void>((resolve) => {
        const n = Math.min(PER_WORKER, TOTAL - w * PER_WORKER);
        const child = spawn(process.execPath, [join(__dirname, 'connection-worker.js')], {
          env: { ...process.env, BENCH_URL: url, BENCH_CONNECTIONS: String(n), BENCH_PREFIX: `${prefix}${w}-`, CHAT_JWT_SECRET: SECRET },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        workers.push(child);
        let buf = '';
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = JSON.parse(buf.slice(0, nl)) as { connected: number; failed: number; done?: boolean };
            buf = buf.slice(nl + 1);
            progress.set(w, line.connected);
            if (line.done) {
              failed += line.failed;
              resolve();
            }
          }
        });
      }),
    ),
  ).finally(() => undefined);
  const connected = [...progress.values()].reduce((a, b) => a + b, 0);
  step(`  ${connected} connected, ${failed} refused`);
  return { connected, workers };
}

async function measure(what: string, start: () => ChildProcess, url: string, readyUrl: string) {
  step(`${what}: starting`);
  const server = start();
  await waitReady(readyUrl, server);
  await new Promise((r) => setTimeout(r, 2_000));
  const before = rssKb(nodePid(server));
  step(`${what}: ${TOTAL} connections from ${Math.ceil(TOTAL / PER_WORKER)} processes`);
  const { connected, workers } = await load(url, what === 'gateway' ? 'g' : 'b');
  // Let timers and heartbeats run once with everyone connected.
  await new Promise((r) => setTimeout(r, 6_000));
  const after = rssKb(nodePid(server));
  for (const w of workers) w.stdin!.end();
  server.kill('SIGKILL');
  return { connected, rssBeforeKb: before, rssAfterKb: after, kbPerConnection: (after - before) / Math.max(1, connected) };
}

async function main(): Promise<void> {
  const ns = `bench_${randomBytes(3).toString('hex')}`;
  const gwPort = 3900 + Math.floor(Math.random() * 50);
  const barePort = gwPort + 50;
  const env = {
    ...process.env, CHAT_NAMESPACE: ns, CHAT_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${ns}`, CHAT_JWT_SECRET: SECRET,
    CHAT_ADMIN_TOKEN: 'bench-admin-token-0123456789', CHAT_LOG_LEVEL: 'warn', CHAT_MAX_CONNECTIONS_PER_USER: '100',
  };
  try {
    const gateway = await measure(
      'gateway',
      () => spawn(process.execPath, [join(ROOT, 'dist/apps/gateway/src/main.js')], { env: { ...env, PORT: String(gwPort) }, stdio: 'inherit' }),
      `http://127.0.0.1:${gwPort}`,
      `http://127.0.0.1:${gwPort}/readyz`,
    );
    const bare = await measure(
      'bare Socket.IO',
      () => spawn(process.execPath, [join(__dirname, 'bare-socketio.js')], { env: { ...env, PORT: String(barePort) }, stdio: 'inherit' }),
      `http://127.0.0.1:${barePort}`,
      `http://127.0.0.1:${barePort}/socket.io/?EIO=4&transport=polling`,
    );
    const rows = [
      ['bare Socket.IO server (ceiling)', bare],
      ['gateway (auth, lease, rooms, rate limits)', gateway],
    ] as const;
    process.stdout.write(
      `\n| server | connections held | RSS before (MiB) | RSS after (MiB) | KiB per connection |\n|---|---|---|---|---|\n${rows
        .map(([n, r]) => `| ${n} | ${r.connected} | ${(r.rssBeforeKb / 1024).toFixed(0)} | ${(r.rssAfterKb / 1024).toFixed(0)} | ${r.kbPerConnection.toFixed(1)} |`)
        .join('\n')}\n\nratio gateway/bare per connection: ${(gateway.kbPerConnection / bare.kbPerConnection).toFixed(2)}\n`,
    );
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'connections.json'),
      `${JSON.stringify({
        at: new Date().toISOString(), offered: TOTAL, connections_per_process: gateway.connected,
        rss_kb_per_connection: Math.round(gateway.kbPerConnection * 10) / 10, bare_socketio_rss_kb_per_connection: Math.round(bare.kbPerConnection * 10) / 10,
        gateway, bare, machine: { cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30) },
      }, null, 2)}\n`,
    );
  } finally {
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${ns}_`)) await jsm.streams.delete(s.config.name);
    await nc.close();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${ns}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
    const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${ns}" WITH (FORCE)`);
    await pg.end();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench:connections failed: ${err.stack}\n`);
    process.exit(1);
  },
);
