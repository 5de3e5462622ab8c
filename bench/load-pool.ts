import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerCommand, WorkerReply } from './load-protocol';

type Reply<T extends WorkerReply['type']> = Extract<WorkerReply, { type: T }>;

/**
 * Load processes of the benchmark: each holds at most `perWorker` clients, so none comes
 * near the 20,000 open files a process may hold. Commands go to one worker or to all.
 */
export class LoadPool {
  private readonly workers: ChildProcess[] = [];
  private readonly waiting = new Map<ChildProcess, Array<(r: WorkerReply) => void>>();
  private readonly connected = new Map<ChildProcess, number>();

  constructor(count: number, env: Record<string, string>, private readonly onProgress: (connected: number) => void = () => undefined) {
    for (let i = 0; i < count; i++) {
      const w = fork(join(__dirname, 'load-worker.js'), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.waiting.set(w, []);
      w.on('message', (r: WorkerReply) => {
        if (r.type === 'progress') {
          this.connected.set(w, r.connected);
          this.onProgress([...this.connected.values()].reduce((a, b) => a + b, 0));
          return;
        }
        this.waiting.get(w)!.shift()?.(r);
      });
      w.on('exit', (code) => {
        for (const resolve of this.waiting.get(w)!.splice(0)) resolve({ type: 'error', message: `load process exited with ${code}` });
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  async call<T extends WorkerReply['type']>(index: number, cmd: WorkerCommand, expect: T): Promise<Reply<T>> {
    const w = this.workers[index]!;
    const r = await new Promise<WorkerReply>((resolve) => {
      this.waiting.get(w)!.push(resolve);
      w.send(cmd);
    });
    if (r.type === 'error') throw new Error(`load process ${index}: ${r.message}`);
    if (r.type !== expect) throw new Error(`load process ${index}: expected ${expect}, got ${r.type}`);
    return r as Reply<T>;
  }

  /** The same kind of command to every worker, each with its own part. */
  all<T extends WorkerReply['type']>(cmd: (index: number) => WorkerCommand, expect: T): Promise<Array<Reply<T>>> {
    return Promise.all(this.workers.map((_, i) => this.call(i, cmd(i), expect)));
  }

  stop(): void {
    for (const w of this.workers) w.kill('SIGKILL');
  }
}

/** Splits items over n workers round-robin. */
export function spread<T>(items: T[], n: number): T[][] {
  const parts = Array.from({ length: n }, () => [] as T[]);
  items.forEach((item, i) => parts[i % n]!.push(item));
  return parts;
}
