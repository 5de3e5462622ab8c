import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatEvent, Presence } from '@chat/contracts';
import { ROOT } from './app-process';
import type { TestClient } from './clients';
import { compare, lostOrDoubled, SendLedger, syncAll } from './ledger';
import type { TestNamespace } from './namespace';
import { storm, type Senders } from './senders';
import { waitFor } from './wait';

/** What a send's invocation came to: its ack, its error code, or no answer in time. */
export type Outcome = { kind: 'ok'; seq: number; duplicate?: true } | { kind: 'error'; code: string } | { kind: 'unknown' };

/** One client operation: its invocation and its outcome, times in ms since the history began. */
export interface Operation {
  n: number;
  op: 'send';
  userId: string;
  device: string;
  conversationId: string;
  clientMsgId: string;
  /** Which attempt of this clientMsgId (0 = the first). */
  attempt: number;
  invokedAt: number;
  completedAt: number;
  outcome: Outcome;
}

/** A message a client was given: live (a `message` event) or by its `sync` after the faults. */
export interface Delivery {
  userId: string;
  device: string;
  conversationId: string;
  seq: number;
  clientMsgId: string;
  via: 'live' | 'sync';
  at: number;
}

type MessageEvent = Extract<ChatEvent, { type: 'message' }>;

/** A client that receives (and says who it is in the history). */
interface Watcher {
  client: TestClient;
  device: string;
  conversations: string[];
  /** Its sync cursor from before the faults: what it missed live, it must get from there. */
  cursor: string;
}

/**
 * A history of every client operation and every delivery of a run, with the faults as
 * notes on the same clock, and the checks every partition case ends with. The senders are
 * an SDK's outbox: a send without an `ok` (an error code, or no ack within the timeout:
 * `unknown`) is sent again with the same clientMsgId until it is acked.
 */
export class History {
  readonly ops: Operation[] = [];
  readonly deliveries: Delivery[] = [];
  readonly notes: Array<{ at: number; what: string }> = [];
  readonly presence: Array<{ at: number; watcher: string } & Presence> = [];
  readonly ledger = new SendLedger();
  private readonly started = Date.now();
  private readonly watchers: Watcher[] = [];
  /** Ack conflicts (one clientMsgId acked at two seqs): a problem, kept for the check rather than thrown mid-storm. */
  private readonly conflicts: string[] = [];

  now(): number {
    return Date.now() - this.started;
  }

  note(what: string): void {
    this.notes.push({ at: this.now(), what });
  }

  /** One attempt of a send, recorded with its outcome. */
  async send(client: TestClient, device: string, conversationId: string, clientMsgId: string, attempt: number, timeoutMs: number): Promise<Outcome> {
    const invokedAt = this.now();
    const ack = await client.request('message:send', { conversationId, clientMsgId, body: `${clientMsgId} body` }, timeoutMs).catch((err: Error) => {
      if (/timed out|timeout/i.test(err.message)) return undefined;
      throw err;
    });
    const outcome: Outcome = !ack
      ? { kind: 'unknown' }
      : ack.ok
        ? { kind: 'ok', seq: ack.seq, ...(ack.duplicate && { duplicate: true as const }) }
        : { kind: 'error', code: ack.error.code };
    this.ops.push({ n: this.ops.length, op: 'send', userId: client.userId, device, conversationId, clientMsgId, attempt, invokedAt, completedAt: this.now(), outcome });
    if (outcome.kind === 'ok') {
      try {
        this.ledger.record({ conversationId, senderId: client.userId, clientMsgId, seq: outcome.seq });
      } catch (err) {
        this.conflicts.push((err as Error).message);
      }
    }
    return outcome;
  }

  /** Records every live message the client gets, and its presence events, from now on. */
  async watch(client: TestClient, device: string, conversations: string[]): Promise<void> {
    const cursor = (await syncAll(client)).next;
    client.socket.on('message', (e: MessageEvent) => {
      this.deliveries.push({ userId: client.userId, device, conversationId: e.conversationId, seq: e.seq, clientMsgId: e.clientMsgId, via: 'live', at: this.now() });
    });
    client.socket.on('presence', (p: Presence) => this.presence.push({ at: this.now(), watcher: `${client.userId}/${device}`, ...p }));
    this.watchers.push({ client, device, conversations, cursor });
  }

  /** Each watcher's sync from its cursor, recorded as deliveries: what it missed live comes from here. */
  async syncWatchers(): Promise<void> {
    for (const w of this.watchers) {
      const { events } = await syncAll(w.client, w.cursor);
      for (const e of events) {
        if (e.type !== 'message' || !w.conversations.includes(e.conversationId)) continue;
        this.deliveries.push({ userId: w.client.userId, device: w.device, conversationId: e.conversationId, seq: e.seq, clientMsgId: e.clientMsgId, via: 'sync', at: this.now() });
      }
    }
  }

  /**
   * The checks, after healing: every `ok` send is in the timeline, every member's sync and
   * history exactly once at its acked seq, seqs strictly increasing (ledger.ts); a send
   * that ever had an `unknown` or error outcome is there once at most (once its retry was
   * acked, exactly once); each watcher got every acked message of its conversations live
   * or through its sync, live nothing twice, nothing never acked, in seq order.
   */
  async check(ns: TestNamespace, opts: { url: string; members: Record<string, string[]>; cursors: Record<string, string>; liveMayReorder?: boolean }): Promise<string[]> {
    const problems = [...this.conflicts];
    problems.push(...(await lostOrDoubled(ns, this.ledger, opts)));
    const acked = this.ledger.all();
    const ackedKeys = new Set(acked.map((s) => `${s.senderId}\n${s.clientMsgId}`));
    for (const op of this.ops) {
      if (!ackedKeys.has(`${op.userId}\n${op.clientMsgId}`)) problems.push(`send ${op.clientMsgId} of ${op.userId} was never acked (last outcome ${JSON.stringify(op.outcome)})`);
    }
    for (const w of this.watchers) {
      const mine = acked.filter((s) => w.conversations.includes(s.conversationId));
      const where = `${w.client.userId}/${w.device}`;
      const live = this.deliveries.filter((d) => d.via === 'live' && d.userId === w.client.userId && d.device === w.device && w.conversations.includes(d.conversationId));
      const synced = this.deliveries.filter((d) => d.via === 'sync' && d.userId === w.client.userId && d.device === w.device);
      // Live may miss (sync fills it), never doubles, invents or goes back within a
      // conversation (except where a case allows it: two projectors deliver on their own).
      const liveProblems = compare(`live to ${where}`, mine, live).filter((p) => !/ is missing$/.test(p) && !(opts.liveMayReorder && / after seq \d+$/.test(p)));
      problems.push(...liveProblems);
      const got = new Set([...live, ...synced].map((d) => `${d.conversationId}#${d.seq}`));
      for (const s of mine) if (!got.has(`${s.conversationId}#${s.seq}`)) problems.push(`${where} got ${s.conversationId}#${s.seq} (${s.clientMsgId}) neither live nor through sync`);
    }
    return [...new Set(problems)];
  }

  /** Per-watcher delivery counts: live, and what sync filled in. */
  deliveryCounts(): Record<string, { live: number; bySync: number }> {
    const counts: Record<string, { live: number; bySync: number }> = {};
    for (const w of this.watchers) {
      const key = `${w.client.userId}/${w.device}`;
      const mine = (d: Delivery) => d.userId === w.client.userId && d.device === w.device && w.conversations.includes(d.conversationId);
      const live = new Set(this.deliveries.filter((d) => mine(d) && d.via === 'live').map((d) => `${d.conversationId}#${d.seq}`));
      const bySync = this.deliveries.filter((d) => mine(d) && d.via === 'sync' && !live.has(`${d.conversationId}#${d.seq}`)).length;
      counts[key] = { live: live.size, bySync };
    }
    return counts;
  }

  /** The history's summary: one row per figure. */
  summary(extra: Record<string, string | number> = {}): Array<[string, string | number]> {
    const byOutcome = new Map<string, number>();
    for (const op of this.ops) {
      const k = op.outcome.kind === 'error' ? `error ${op.outcome.code}` : op.outcome.kind;
      byOutcome.set(k, (byOutcome.get(k) ?? 0) + 1);
    }
    const retried = new Set(this.ops.filter((o) => o.attempt > 0).map((o) => `${o.userId}\n${o.clientMsgId}`)).size;
    const deliveries = Object.values(this.deliveryCounts());
    const rows: Array<[string, string | number]> = [
      ['send invocations', this.ops.length],
      ...[...byOutcome].sort().map(([k, n]) => [`  outcome ${k}`, n] as [string, number]),
      ['sends acked (distinct clientMsgIds)', this.ledger.size],
      ['sends that needed a retry', retried],
      ['live deliveries', deliveries.reduce((n, d) => n + d.live, 0)],
      ['missed live, given by sync', deliveries.reduce((n, d) => n + d.bySync, 0)],
      ['presence events seen', this.presence.length],
      ...Object.entries(extra),
    ];
    return rows;
  }

  /** The summary as a table, and the faults' timeline. */
  table(title: string, extra: Record<string, string | number> = {}): string {
    const rows = this.summary(extra);
    const width = Math.max(...rows.map(([k]) => k.length));
    const lines = [`${title}`, `${'-'.repeat(width + 12)}`, ...rows.map(([k, v]) => `${k.padEnd(width)}  ${String(v).padStart(8)}`), `${'-'.repeat(width + 12)}`];
    for (const n of this.notes) lines.push(`${String(n.at).padStart(7)} ms  ${n.what}`);
    return lines.join('\n');
  }

  /** The raw history, for a failed check: test-output/partitions-<name>.json. */
  save(name: string, problems: string[]): string {
    const dir = join(ROOT, 'test-output');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `partitions-${name}.json`);
    writeFileSync(file, JSON.stringify({ problems, notes: this.notes, summary: this.summary(), ops: this.ops, deliveries: this.deliveries, presence: this.presence }, null, 1));
    return file;
  }
}

/** A storm whose every attempt, outcome and ack goes into the history; any code but UNAVAILABLE (or RATE_LIMITED) fails it. */
export function sendStorm(history: History, senders: Array<{ client: TestClient; device: string; conversationId: string }>, opts: { prefix: string; timeoutMs?: number; pauseMs?: number }): Senders {
  return storm(senders, {
    prefix: opts.prefix,
    ...(opts.pauseMs !== undefined && { pauseMs: opts.pauseMs }),
    backoffMs: [50, 100, 200, 400, 800],
    attempt: ({ client, device, conversationId }, clientMsgId, attempt) => history.send(client, device, conversationId, clientMsgId, attempt, opts.timeoutMs ?? 5_000),
    refuse: (code, clientMsgId) =>
      code === 'UNAVAILABLE' || code === 'RATE_LIMITED' ? undefined : `send ${clientMsgId} refused with ${code}: only UNAVAILABLE (and a retry with the same id) is right during a fault`,
  });
}

/** Waits until `n` more sends were acked than now, failing early if a sender failed. */
export async function moreAcks(storm: Senders, n: number, what: string, timeoutMs = 60_000): Promise<void> {
  const target = storm.acks() + n;
  await waitFor(`${n} more acked sends ${what} (have ${storm.acks()}, want ${target})`, () => (storm.check(), storm.acks() >= target), timeoutMs, 20);
}
