import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { asChildMessage, type Answer, type ChildName } from './ipc.messages';

export interface ChildSpec {
  name: ChildName;
  /** The compiled entry the child runs (`front.main.js`, `worker.main.js`). */
  module: string;
}

export interface SupervisorOptions {
  children: ChildSpec[];
  log: Logger;
  /** After SIGINT/SIGTERM, how long the children get to finish before SIGKILL. */
  stopDeadlineMs: number;
}

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
/** A child that ran this long after starting counts as healthy again: its next restart is quick. */
const STABLE_AFTER_MS = 10_000;

interface Slot {
  spec: ChildSpec;
  process?: ChildProcess;
  incarnation: number;
  /** When the running incarnation reported that it had started. */
  startedAt?: number;
  everStarted: boolean;
  failures: number;
  restart?: { timer: NodeJS.Timeout; at: number };
}

/**
 * Runs the all-in-one's children as processes of its own process group (a kill of the
 * group reaches them all): restarts one that dies, after a backoff; forwards SIGINT and
 * SIGTERM and waits for them to finish, SIGKILL after the deadline; passes questions
 * between them over IPC. A child that cannot start the first time stops everything with
 * exit code 1, as a single process that cannot start would.
 */
export class Supervisor {
  private readonly slots = new Map<ChildName, Slot>();
  private stopping = false;
  private deadline?: NodeJS.Timeout;
  private exitCode = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  start(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => this.stop(signal));
    for (const spec of this.opts.children) {
      const slot: Slot = { spec, incarnation: 0, everStarted: false, failures: 0 };
      this.slots.set(spec.name, slot);
      this.spawn(slot);
    }
  }

  private spawn(slot: Slot): void {
    slot.incarnation++;
    slot.startedAt = undefined;
    // Node flags (--cpu-prof, --inspect...) apply to the processes that do the work.
    const child = fork(slot.spec.module, [], { env: slot.incarnation === 1 ? process.env : withoutTestHooks(process.env), execArgv: process.execArgv });
    slot.process = child;
    this.opts.log.info({ child: slot.spec.name, childPid: child.pid, incarnation: slot.incarnation }, `${slot.spec.name} spawned`);
    child.on('message', (raw) => this.onMessage(slot, raw));
    // A signal that can no longer be delivered, a message to a child that just died: its exit follows.
    child.on('error', (err) => this.opts.log.debug({ child: slot.spec.name, err: err.message }, 'child process error'));
    child.once('exit', (code, signal) => this.onExit(slot, child, code, signal));
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.process !== child) return;
    slot.process = undefined;
    const name = slot.spec.name;
    if (this.stopping) {
      this.opts.log.info({ child: name, childPid: child.pid, code, signal }, `${name} stopped`);
      this.exitIfAllGone();
      return;
    }
    if (!slot.everStarted) {
      this.opts.log.error({ child: name, childPid: child.pid, code, signal }, `${name} exited before it started: stopping`);
      this.exitCode = 1;
      this.stop('SIGTERM');
      return;
    }
    const stable = slot.startedAt !== undefined && Date.now() - slot.startedAt >= STABLE_AFTER_MS;
    slot.failures = stable ? 1 : slot.failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (slot.failures - 1));
    this.opts.log.warn({ child: name, childPid: child.pid, code, signal, restartInMs: delay }, `${name} exited: restarting`);
    slot.restart = {
      at: Date.now() + delay,
      timer: setTimeout(() => {
        slot.restart = undefined;
        this.spawn(slot);
      }, delay),
    };
  }

  private onMessage(from: Slot, raw: unknown): void {
    const message = asChildMessage(raw);
    if (!message) return;
    if (message.kind === 'started') {
      from.startedAt = Date.now();
      from.everStarted = true;
      this.opts.log.info({ child: from.spec.name, childPid: from.process?.pid, incarnation: from.incarnation }, `${from.spec.name} started`);
      return;
    }
    const target = this.slots.get(message.to);
    if (message.kind === 'answer') {
      send(target?.process, message);
      return;
    }
    if (target?.process?.connected) {
      send(target.process, { ...message, from: from.spec.name });
      return;
    }
    const error = target?.restart ? `not running (restarting in ${Math.max(0, target.restart.at - Date.now())} ms)` : 'not running';
    send(from.process, { kind: 'answer', id: message.id, to: from.spec.name, error } satisfies Answer);
  }

  private stop(signal: NodeJS.Signals): void {
    if (this.stopping) return;
    this.stopping = true;
    this.opts.log.info({ signal }, 'stopping the all-in-one');
    for (const slot of this.slots.values()) {
      if (slot.restart) clearTimeout(slot.restart.timer);
      slot.restart = undefined;
      slot.process?.kill(signal);
    }
    this.deadline = setTimeout(() => {
      for (const slot of this.slots.values()) {
        if (!slot.process) continue;
        this.opts.log.warn({ child: slot.spec.name, childPid: slot.process.pid, afterMs: this.opts.stopDeadlineMs }, `${slot.spec.name} did not stop in time: SIGKILL`);
        this.exitCode = 1;
        slot.process.kill('SIGKILL');
      }
    }, this.opts.stopDeadlineMs);
    this.exitIfAllGone();
  }

  private exitIfAllGone(): void {
    if ([...this.slots.values()].some((slot) => slot.process)) return;
    clearTimeout(this.deadline);
    this.opts.log.info({ code: this.exitCode }, 'all-in-one stopped');
    process.exit(this.exitCode);
  }
}

function send(child: ChildProcess | undefined, message: object): void {
  // The child may be gone between the check and the write: its exit is handled on its own.
  if (child?.connected) child.send(message, (err) => void err);
}

/**
 * A test hook (CHAT_TEST_*) stands for one crash; the restarted child is the recovery the
 * test then checks, so only a child's first incarnation gets the hooks.
 */
function withoutTestHooks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('CHAT_TEST_')));
}
