import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '@chat/config';
import { blobStoreOf, dropNamespace } from '@chat/platform';

export const ROOT = join(__dirname, '..', '..');
export const BENCH_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';

export const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** The shared services' ports, from the config's URLs: the services whose CPU the benchmark reports beside the product's. */
export function sharedServicePorts(): Record<string, number> {
  const c = loadConfig({ ...process.env, CHAT_NAMESPACE: 'x' });
  const port = (url: string, fallback: number) => Number(new URL(url).port || fallback);
  return { 'nats-server': port(c.CHAT_NATS_URL[0]!, 4222), postgres: port(c.CHAT_DATABASE_URL, 5432), 'redis-server': port(c.CHAT_REDIS_URL[0]!, 6379) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A private namespace and database on the shared services, for one benchmark run. */
export class BenchNamespace {
  readonly name = `bench_${randomBytes(3).toString('hex')}`;
  readonly env: Record<string, string>;

  constructor(extra: Record<string, string> = {}) {
    const base = loadConfig({ ...process.env, CHAT_NAMESPACE: 'x' });
    const db = new URL(base.CHAT_DATABASE_URL);
    db.pathname = `/${this.name}`;
    this.env = {
      CHAT_NAMESPACE: this.name, CHAT_DATABASE_URL: db.toString(), CHAT_JWT_SECRET: BENCH_SECRET,
      CHAT_ADMIN_TOKEN: 'bench-admin-token-0123456789', CHAT_LOG_LEVEL: 'warn',
      // The benchmark measures throughput; the per-user limits are tested elsewhere.
      CHAT_SEND_RATE: '1000000', CHAT_SEND_BURST: '1000000', CHAT_EVENT_RATE: '1000000', CHAT_EVENT_BURST: '1000000',
      CHAT_MAX_CONNECTIONS_PER_USER: '100',
      ...extra,
    };
  }

  /** Removes the namespace's streams, Redis keys, S3 objects and database. */
  async drop(): Promise<void> {
    const config = loadConfig({ ...process.env, ...this.env });
    const blobs = blobStoreOf(config);
    try {
      await dropNamespace(this.name, { natsUrls: config.CHAT_NATS_URL, redisUrls: config.CHAT_REDIS_URL, databaseUrl: config.CHAT_DATABASE_URL, blobs });
    } finally {
      blobs.close();
    }
  }
}

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  url: string;
}

/** Where the started apps' logs go, one file per process name, replaced by each run: a stall in a step's figures is explained there. */
export const BENCH_LOGS = join(ROOT, 'test-output', 'bench-logs');

/** Starts a built app (`dist/apps/<app>/src/main.js`) and waits for its /readyz. */
export async function startProcess(name: string, script: string, env: Record<string, string>, args: string[] = []): Promise<BenchProcess> {
  const port = await freePort();
  mkdirSync(BENCH_LOGS, { recursive: true });
  const log = openSync(join(BENCH_LOGS, `${name}.log`), 'w');
  const child = spawn(process.execPath, [...args, join(ROOT, script)], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', log, 'inherit'] });
  closeSync(log); // the child holds its own copy
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, child);
  return { name, child, url };
}

export async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} was not ready within 60 s`);
}

export async function stopProcess(p: BenchProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The system under test: one all-in-one process, or with `split` a projector and two
 * gateways as separate processes. `gatewayUrls` are what the load connects to.
 */
export interface BenchSystem {
  processes: BenchProcess[];
  gatewayUrls: string[];
  stop(): Promise<void>;
}

export async function startSystem(ns: BenchNamespace, opts: { split: boolean; nodeArgs?: string[] }): Promise<BenchSystem> {
  const args = opts.nodeArgs ?? [];
  const processes = opts.split
    ? [
        await startProcess('projector', 'dist/apps/projector/src/main.js', ns.env, args),
        ...(await Promise.all([1, 2].map((i) => startProcess(`gateway${i}`, 'dist/apps/gateway/src/main.js', { ...ns.env, CHAT_NODE_ID: `bench-gw${i}` }, args)))),
      ]
    : [await startProcess('all-in-one', 'dist/apps/all-in-one/src/main.js', ns.env, args)];
  return {
    processes,
    gatewayUrls: processes.filter((p) => p.name !== 'projector').map((p) => p.url),
    stop: async () => {
      await Promise.all(processes.map(stopProcess));
    },
  };
}
