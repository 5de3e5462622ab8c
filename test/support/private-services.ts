import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './app-process';
import { createNamespace, type TestNamespace } from './namespace';
import { waitFor } from './wait';

/**
 * Private NATS, Postgres and Redis processes for fault tests: each on a free port with its
 * data in its own temp dir, so a test can kill, stop and restart it without touching the
 * shared instances on 4222/5432/6379. A restart keeps the data (same dir, same port).
 */
export interface PrivateService {
  readonly name: 'nats' | 'postgres' | 'redis' | 's3';
  readonly url: string;
  readonly port: number;
  running(): boolean;
  start(): Promise<void>;
  /** SIGKILL: no shutdown of any kind (for Postgres: `pg_ctl stop -m immediate`). */
  kill9(): Promise<void>;
  /** Kills it if running and removes its temp dir. */
  destroy(): Promise<void>;
  /** The same, synchronously and without waiting: for the process's 'exit' handler. */
  abandon(): void;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Where a service runs: loopback by default, or on a test host of its own (a network
 * namespace of test/support/netns-hosts.ts), at its address, started through its `exec`.
 */
export interface Placement {
  ip: string;
  exec: string[];
  /** A fixed port (a host of its own has every port free); a free loopback port otherwise. */
  port?: number;
}
const LOOPBACK: Placement = { ip: '127.0.0.1', exec: [] };
const START_TIMEOUT_MS = 30_000;

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

/** Every service a test file started; the process's exit kills what afterAll did not get to. */
const live = new Set<PrivateService>();
process.once('exit', () => {
  for (const s of live) s.abandon();
});

/** A server that is a child process of the test (nats-server, redis-server). */
abstract class ChildService implements PrivateService {
  abstract readonly name: 'nats' | 'postgres' | 'redis' | 's3';
  abstract readonly url: string;
  protected child?: ChildProcess;
  protected exited?: Promise<void>;
  protected output = '';

  constructor(readonly port: number, protected readonly dir: string, protected readonly at: Placement = LOOPBACK) {
    live.add(this);
  }

  protected abstract command(): [string, string[]];

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    const [bin, args] = this.command();
    const [file, ...argv] = [...this.at.exec, bin, ...args];
    const child = spawn(file!, argv, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(`private ${this.name} on port ${this.port}`, async () => {
      if (!this.running()) throw new Error(`${this.name} exited:\n${this.output}`);
      return accepts(this.at.ip, this.port);
    }, START_TIMEOUT_MS, 20);
  }

  async kill9(): Promise<void> {
    if (!this.running()) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  abandon(): void {
    if (this.running()) this.child!.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  async destroy(): Promise<void> {
    this.abandon();
    await this.exited;
  }
}

class PrivateNats extends ChildService {
  readonly name = 'nats' as const;
  get url(): string {
    return `nats://${this.at.ip}:${this.port}`;
  }
  protected command(): [string, string[]] {
    return ['nats-server', ['-a', this.at.ip, '-p', String(this.port), '-js', '-sd', join(this.dir, 'jetstream')]];
  }
}

class PrivateRedis extends ChildService {
  readonly name = 'redis' as const;
  get url(): string {
    return `redis://${this.at.ip}:${this.port}`;
  }
  protected command(): [string, string[]] {
    // Protected mode refuses clients off loopback unless there is a password; the test host's clients are its neighbours.
    const open = this.at === LOOPBACK ? [] : ['--protected-mode', 'no'];
    return ['redis-server', ['--bind', this.at.ip, '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', this.dir, ...open]];
  }
}

/** s3rver (the local S3 of the cold tier), for a system on test hosts: the apps check their bucket at boot. */
class PrivateS3 extends ChildService {
  readonly name = 's3' as const;
  get url(): string {
    return `http://${this.at.ip}:${this.port}`;
  }
  protected command(): [string, string[]] {
    const bin = join(__dirname, '..', '..', 'node_modules', 's3rver', 'bin', 's3rver.js');
    return [process.execPath, [bin, '--address', this.at.ip, '--port', String(this.port), '--directory', this.dir, '--silent']];
  }
}

/**
 * A Postgres cluster of its own: initdb into a temp dir, trust auth, TCP on a free port
 * and the unix socket in the temp dir. pg_ctl daemonizes the postmaster, so it is found
 * and killed through postmaster.pid. Postgres refuses to run as root: as root, the
 * cluster belongs to the `postgres` system user.
 */
class PrivatePostgres implements PrivateService {
  readonly name = 'postgres' as const;
  private readonly data: string;
  private readonly asUser: string[];

  constructor(readonly port: number, private readonly dir: string, private readonly at: Placement = LOOPBACK) {
    this.data = join(dir, 'data');
    this.asUser = [...at.exec, ...(process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [])];
    live.add(this);
  }

  get url(): string {
    return `postgres://postgres@${this.at.ip}:${this.port}`;
  }

  private run(bin: string, args: string[]): string {
    const [cmd, ...rest] = [...this.asUser, join(PG_BIN, bin), ...args];
    return execFileSync(cmd!, rest, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: START_TIMEOUT_MS }).toString();
  }

  init(): void {
    if (this.asUser.length) chownSync(this.dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    this.run('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // initdb trusts loopback only; on a test host the clients are the other hosts of its /24.
    if (this.at !== LOOPBACK) appendFileSync(join(this.data, 'pg_hba.conf'), 'host all all samenet trust\n');
  }

  private pid(): number | undefined {
    const file = join(this.data, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  running(): boolean {
    return this.pid() !== undefined;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    // fsync off: these tests kill the server process, never the machine; the page cache survives.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=${this.at.ip} -c fsync=off -c full_page_writes=off`;
    this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'postgres.log'), '-o', options, '-w', '-t', '30', 'start']);
  }

  async kill9(): Promise<void> {
    if (!this.running()) return;
    this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
  }

  abandon(): void {
    const pid = this.pid();
    if (pid !== undefined) process.kill(pid, 'SIGQUIT');
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  async destroy(): Promise<void> {
    const pid = this.pid();
    if (pid !== undefined) {
      // SIGQUIT is "immediate shutdown": the postmaster takes its backends down with it.
      process.kill(pid, 'SIGQUIT');
      await waitFor('the private postgres to exit', () => this.pid() === undefined, 15_000, 20).catch(() => process.kill(pid, 'SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}

const portFor = async (at: Placement) => at.port ?? (at.exec.length ? 0 : await freePort());

export async function startPrivateNats(at: Placement = LOOPBACK): Promise<PrivateService> {
  const nats = new PrivateNats((await portFor(at)) || 4222, mkdtempSync(join(tmpdir(), 'chat-nats-')), at);
  await nats.start();
  return nats;
}

export async function startPrivateRedis(at: Placement = LOOPBACK): Promise<PrivateService> {
  const redis = new PrivateRedis((await portFor(at)) || 6379, mkdtempSync(join(tmpdir(), 'chat-redis-')), at);
  await redis.start();
  return redis;
}

export async function startPrivateS3(at: Placement = LOOPBACK): Promise<PrivateService> {
  const s3 = new PrivateS3((await portFor(at)) || 4569, mkdtempSync(join(tmpdir(), 'chat-s3-')), at);
  await s3.start();
  return s3;
}

export async function startPrivatePostgres(at: Placement = LOOPBACK): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-pg-'));
  mkdirSync(dir, { recursive: true });
  const pg = new PrivatePostgres((await portFor(at)) || 5432, dir, at);
  try {
    pg.init();
    await pg.start();
  } catch (err) {
    await pg.destroy();
    throw err;
  }
  return pg;
}

export interface PrivateStack {
  ns: TestNamespace;
  nats?: PrivateService;
  postgres?: PrivateService;
  redis?: PrivateService;
}

/**
 * Starts the chosen private services before the file's tests and a namespace whose env
 * points at them (the others stay shared); after the tests, `stopApps` runs first, then
 * every private service is brought back up so the namespace cleanup can run against it,
 * then each is killed and its temp dir removed, whatever failed before.
 */
export function usePrivateStack(
  label: string,
  which: { nats?: boolean; postgres?: boolean; redis?: boolean },
  env: Record<string, string> = {},
  stopApps: () => Promise<void> = async () => undefined,
): () => PrivateStack {
  let stack: PrivateStack | undefined;
  const started: PrivateService[] = [];
  beforeAll(async () => {
    const [nats, postgres, redis] = await Promise.all([
      which.nats ? startPrivateNats() : undefined,
      which.postgres ? startPrivatePostgres() : undefined,
      which.redis ? startPrivateRedis() : undefined,
    ]);
    for (const s of [nats, postgres, redis]) if (s) started.push(s);
    const ns = createNamespace(label, {
      ...env,
      ...(nats && { CHAT_NATS_URL: nats.url }),
      ...(postgres && { CHAT_DATABASE_URL: `${postgres.url}/chat` }),
      ...(redis && { CHAT_REDIS_URL: redis.url }),
    });
    stack = { ns, ...(nats && { nats }), ...(postgres && { postgres }), ...(redis && { redis }) };
  }, 60_000);
  afterAll(async () => {
    try {
      await stopApps();
      if (stack) {
        for (const s of started) await s.start();
        await stack.ns.cleanup();
      }
    } finally {
      for (const s of started) await s.destroy();
    }
  }, 90_000);
  return () => {
    if (!stack) throw new Error('the private services did not start');
    return stack;
  };
}
