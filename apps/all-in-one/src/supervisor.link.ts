import { loadConfig } from '@chat/config';
import { writeSync } from 'node:fs';
import { asChildMessage, type Answer, type Ask, type ChildName, type Question } from './ipc.messages';

/** What a child answers to a sibling's question (the routing fields are filled in here). */
export type Reply = Omit<Answer, 'kind' | 'id' | 'to'>;

interface Pending {
  resolve(answer: Answer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A child's end of its IPC channel to the supervisor: it says when the child has started,
 * asks its sibling, answers the sibling's questions, and stops the child when the
 * supervisor is gone (SIGKILLed alone), so that no orphan keeps running.
 */
export class SupervisorLink {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private replier: (question: Question) => Promise<Reply> = async () => ({ error: 'not answering' });

  constructor(private readonly self: ChildName) {
    if (!process.send) {
      process.stderr.write(`${self}: started without its supervisor; run dist/apps/all-in-one/src/main.js\n`);
      process.exit(1);
    }
    process.on('message', (raw) => this.onMessage(raw));
    process.once('disconnect', () => this.orphaned());
  }

  started(): void {
    this.send({ kind: 'started' });
  }

  answerWith(replier: (question: Question) => Promise<Reply>): void {
    this.replier = replier;
  }

  /** Rejects with the supervisor's reason (`not running ...`) or after `timeoutMs`. */
  ask(to: ChildName, question: Question, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (!process.connected) return reject(new Error('no supervisor'));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ kind: 'ask', id, to, question } satisfies Ask);
    });
  }

  private onMessage(raw: unknown): void {
    const message = asChildMessage(raw);
    if (message?.kind === 'answer') {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.error !== undefined) waiting.reject(new Error(message.error));
      else waiting.resolve(message);
    } else if (message?.kind === 'ask' && message.from) {
      const to = message.from;
      this.replier(message.question).then(
        (reply) => this.send({ ...reply, kind: 'answer', id: message.id, to } satisfies Answer),
        (err: Error) => this.send({ kind: 'answer', id: message.id, to, error: err.message } satisfies Answer),
      );
    }
  }

  private send(message: object): void {
    if (process.connected) process.send!(message, undefined, {}, (err) => void err);
  }

  /** Stops as on SIGTERM (drain, hooks), with a backstop in case that hangs. */
  private orphaned(): void {
    writeSync(2, `${this.self}: the supervisor is gone: stopping\n`);
    let graceMs = 15_000;
    try {
      graceMs = loadConfig().CHAT_DRAIN_TIMEOUT + 5_000;
    } catch {
      // the supervisor validated the configuration before starting this process
    }
    setTimeout(() => process.exit(1), graceMs).unref();
    process.kill(process.pid, 'SIGTERM');
  }
}
