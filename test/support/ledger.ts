import type { ChatEvent } from '@chat/contracts';
import type { TestNamespace } from './namespace';
import { connectClient, wholeHistory, type TestClient } from './clients';
import { query } from './inspect';

/** One acknowledged send: what the gateway promised the sender. */
export interface AckedSend {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  seq: number;
}

/**
 * What a test's senders were told. Every fault test ends with `expectNothingLost`: the set
 * of acknowledged sends equals the set of messages in the read model and in every
 * recipient's `sync`, each once, in seq order.
 */
export class SendLedger {
  private readonly byKey = new Map<string, AckedSend>();
  /** conversation#seq -> the send acked there: one seq holds one message. */
  private readonly bySeq = new Map<string, AckedSend>();

  /**
   * Records an ack; a second ack for the same clientMsgId must name the same seq, and no
   * two sends may be acked at one seq of a conversation (the log holds one of them at most).
   */
  record(send: AckedSend): void {
    const key = `${send.senderId}\n${send.clientMsgId}`;
    const before = this.byKey.get(key);
    if (before && (before.seq !== send.seq || before.conversationId !== send.conversationId)) {
      throw new Error(`clientMsgId ${send.clientMsgId} of ${send.senderId} was acked as seq ${before.seq} and then as seq ${send.seq}`);
    }
    const at = `${send.conversationId}#${send.seq}`;
    const there = this.bySeq.get(at);
    if (there && (there.senderId !== send.senderId || there.clientMsgId !== send.clientMsgId)) {
      throw new Error(`${at} was acked for ${there.clientMsgId} of ${there.senderId} and then for ${send.clientMsgId} of ${send.senderId}`);
    }
    this.byKey.set(key, send);
    this.bySeq.set(at, send);
  }

  get size(): number {
    return this.byKey.size;
  }

  all(): AckedSend[] {
    return [...this.byKey.values()];
  }

  /** Sends `message:send` and records the ack when it is ok; returns the ack either way. */
  async send(client: TestClient, conversationId: string, clientMsgId: string, body = clientMsgId, timeoutMs?: number) {
    const ack = await client.request('message:send', { conversationId, clientMsgId, body }, timeoutMs);
    if (ack.ok) this.record({ conversationId, senderId: client.userId, clientMsgId, seq: ack.seq });
    return ack;
  }
}

type MessageEvent = Extract<ChatEvent, { type: 'message' }>;

/**
 * Everything `sync` gives after `since` (or the snapshot without it), following `next`
 * until it is done. A test takes each recipient's cursor before the faults begin.
 */
export async function syncAll(client: TestClient, since?: string): Promise<{ events: ChatEvent[]; next: string }> {
  const events: ChatEvent[] = [];
  for (;;) {
    const page = await client.ok('sync', { limit: 500, ...(since !== undefined && { since }) });
    if (page.reset) throw new Error(`sync of ${client.userId} was reset: the cursor was too old`);
    events.push(...page.events);
    since = page.next;
    if (!page.hasMore) return { events, next: page.next };
  }
}

/** Each user's sync cursor now: take it before the faults, hand it to `expectNothingLost`. */
export async function cursorsOf(url: string, userIds: string[]): Promise<Record<string, string>> {
  const cursors: Record<string, string> = {};
  for (const userId of userIds) {
    const client = await connectClient(url, userId, { deviceId: `ledger-${userId}` });
    try {
      cursors[userId] = (await syncAll(client)).next;
    } finally {
      client.close();
    }
  }
  return cursors;
}

const describeSend = (s: { conversationId: string; seq: number; clientMsgId: string }) => `${s.conversationId}#${s.seq} (${s.clientMsgId})`;

/** Checks one list of message events against the ledger: each acked send once, in seq order, nothing else. */
export function compare(where: string, acked: AckedSend[], seen: Array<{ conversationId: string; seq: number; clientMsgId: string }>): string[] {
  const problems: string[] = [];
  const expected = new Map(acked.map((s) => [`${s.conversationId}#${s.seq}`, s]));
  const counts = new Map<string, number>();
  const lastSeq = new Map<string, number>();
  for (const m of seen) {
    const key = `${m.conversationId}#${m.seq}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const want = expected.get(key);
    if (!want) problems.push(`${where}: ${describeSend(m)} was never acked`);
    else if (want.clientMsgId !== m.clientMsgId) problems.push(`${where}: ${key} holds ${m.clientMsgId}, acked as ${want.clientMsgId}`);
    const last = lastSeq.get(m.conversationId) ?? 0;
    if (m.seq <= last) problems.push(`${where}: ${describeSend(m)} after seq ${last}`);
    lastSeq.set(m.conversationId, Math.max(last, m.seq));
  }
  for (const [key, n] of counts) if (n > 1) problems.push(`${where}: ${key} ${n} times`);
  for (const s of acked) if (!counts.has(`${s.conversationId}#${s.seq}`)) problems.push(`${where}: acked ${describeSend(s)} is missing`);
  return problems;
}

/**
 * The end of every fault test: the timeline table, each member's `history` of each
 * conversation and each member's `sync` from the cursor taken before the faults
 * (`cursorsOf`) show exactly the acked messages, each once, in seq order. `members` maps
 * each conversation to its members; `url` is the gateway (or load balancer) to ask.
 */
export async function expectNothingLost(
  ns: TestNamespace,
  ledger: SendLedger,
  opts: { url: string; members: Record<string, string[]>; cursors: Record<string, string> },
): Promise<void> {
  const problems = await lostOrDoubled(ns, ledger, opts);
  if (problems.length > 0) {
    throw new Error(`${ledger.size} acked sends, ${problems.length} problems:\n${problems.slice(0, 30).join('\n')}`);
  }
}

/** What `expectNothingLost` checks, as a list of problems (empty when all is well). */
export async function lostOrDoubled(
  ns: TestNamespace,
  ledger: SendLedger,
  opts: { url: string; members: Record<string, string[]>; cursors: Record<string, string> },
): Promise<string[]> {
  const acked = ledger.all();
  const conversations = Object.keys(opts.members);
  const problems: string[] = [];

  const rows = await query<{ conversation_id: string; seq: string; client_msg_id: string }>(
    ns,
    `SELECT conversation_id, seq, payload->>'clientMsgId' AS client_msg_id FROM timeline
      WHERE kind = 'message' AND conversation_id = ANY($1) ORDER BY conversation_id, seq`,
    [conversations],
  );
  problems.push(...compare('timeline', acked.filter((s) => conversations.includes(s.conversationId)),
    rows.map((r) => ({ conversationId: r.conversation_id, seq: Number(r.seq), clientMsgId: r.client_msg_id }))));

  const users = [...new Set(Object.values(opts.members).flat())];
  for (const userId of users) {
    const mine = conversations.filter((c) => opts.members[c]!.includes(userId));
    const client = await connectClient(opts.url, userId, { deviceId: `ledger-${userId}` });
    try {
      const since = opts.cursors[userId];
      if (since === undefined) throw new Error(`no cursor was taken for ${userId}`);
      const { events } = await syncAll(client, since);
      const messages = events.filter((e): e is MessageEvent => e.type === 'message' && mine.includes(e.conversationId));
      problems.push(...compare(`sync of ${userId}`, acked.filter((s) => mine.includes(s.conversationId)), messages));
      for (const conversationId of mine) {
        const history = await wholeHistory(client, conversationId);
        problems.push(...compare(`history of ${conversationId} for ${userId}`, acked.filter((s) => s.conversationId === conversationId), history));
      }
    } finally {
      client.close();
    }
  }
  return problems;
}
