import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait';

export const ROOT = join(__dirname, '..', '..');
const OUTPUT = join(ROOT, 'test-output');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A built app (dist/) running as its own process, as an operator would run it. */
export interface AppProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  output(): string;
  /** SIGKILL to the whole process group (npm and what it runs: the all-in-one's supervisor and its children): no shutdown hook runs. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env: Record<string, string>;
  /** `npm start` by default; or a script of package.json, e.g. `start:gateway`. */
  script?: string;
  port?: number;
  /** Wait for /readyz (default true). */
  ready?: boolean;
  /** Instead of npm: this command, run in `cwd` (a container's CMD in a copy of its image's files). */
  command?: { argv: string[]; cwd: string };
  /** The address it is reached at: 127.0.0.1, or its test host's (the command then runs there). */
  host?: string;
}

export async function startApp(opts: StartOptions): Promise<AppProcess> {
  if (!existsSync(join(ROOT, 'dist', 'apps'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  mkdirSync(OUTPUT, { recursive: true });
  const port = opts.port ?? (await freePort());
  const script = opts.script ?? 'start';
  const [file, ...args] = opts.command?.argv ?? ['npm', 'run', '--silent', script];
  const child = spawn(file!, args, {
    cwd: opts.command?.cwd ?? ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const log = createWriteStream(join(OUTPUT, `${opts.env.CHAT_NAMESPACE ?? 'app'}-${script}-${port}.log`), { flags: 'a' });
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 2_000_000) text = text.slice(-1_000_000);
    if (!log.writableEnded) log.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Output can still arrive after 'exit'; the log file ends once every stream has closed.
  child.once('close', () => log.end());
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  // npm can exit before the node process it started has finished draining: wait for the
  // whole process group, so that nothing writes after a test has cleaned up.
  const groupGone = () =>
    waitFor(`process group ${child.pid} to exit`, () => {
      try {
        process.kill(-child.pid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 30_000, 20);
  const app: AppProcess = {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    child,
    exited,
    output: () => text,
    kill9: async () => {
      signalGroup('SIGKILL');
      await exited;
      await groupGone();
    },
    stop: async () => {
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 15_000);
      await exited;
      await groupGone();
      clearTimeout(timer);
    },
  };
  if (opts.ready !== false) {
    let gone = false;
    void exited.then(() => (gone = true));
    try {
      await waitFor(`${script} on port ${port} to be ready`, async () => {
        if (gone) throw new Error(`process exited early:\n${text.slice(-3000)}`);
        const res = await fetch(`${app.url}/readyz`).catch(() => undefined);
        return res?.status === 200;
      }, 60_000, 100);
    } catch (err) {
      await app.stop();
      throw err;
    }
  }
  return app;
}
