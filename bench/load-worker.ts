/**
 * One load process of `npm run bench` (forked, commands over the IPC channel). It holds
 * a few thousand Socket.IO clients (well under the 20,000 open files a process may hold),
 * sends at the rate it is told, and records every delivery's latency: the send time
 * travels in the body, so any process on this machine can measure it on arrival.
 *
 * Two targets behind one protocol: the chat gateway (`message:send`, `message` events)
 * and the bare relay server of the ceiling (`relay` to a room, `relay` events).
 */
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import type { WorkerCommand, WorkerReply, LoadReport, HeavyReport, Send } from './load-protocol';

const key = new TextEncoder().encode(process.env.CHAT_JWT_SECRET ?? '');
const now = () => performance.timeOrigin + performance.now();
// With the send time in front, bodies are 200 bytes, as in the raw JetStream ceiling.
const PAD = 'x'.repeat(182);

interface Client {
  userId: string;
  socket: Socket;
}

const clients = new Map<string, Client>();
let target: 'chat' | 'relay' = 'chat';
/** Delivery latencies and counts since the last `collect`. */
let latencies: number[] = [];
let deliveries = 0;
let lastDeliveryAt = 0;
/** Messages each user has received live since the storm began, for its completeness check. */
const seen = new Map<string, Set<string>>();
let trackSeen = false;

const reply = (r: WorkerReply) => process.send!(r);

function onDelivery(userId: string, body: string, senderId: string, conversationId: string, seq: number): void {
  if (senderId === userId) return;
  deliveries++;
  lastDeliveryAt = now();
  const sentAt = Number(body.slice(0, body.indexOf('|')));
  if (sentAt > 0) latencies.push(now() - sentAt);
  if (trackSeen) {
    let mine = seen.get(userId);
    if (!mine) seen.set(userId, (mine = new Set()));
    mine.add(`${conversationId}#${seq}`);
  }
}

async function open(url: string, userId: string): Promise<Client> {
  const auth = target === 'chat'
    ? { token: await new SignJWT({ did: 'bench' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('3h').sign(key) }
    : {};
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  if (target === 'chat') {
    socket.on('message', (m: { body: string; senderId: string; conversationId: string; seq: number }) => onDelivery(userId, m.body, m.senderId, m.conversationId, m.seq));
  } else {
    socket.on('relay', (m: { body: string; senderId: string }) => onDelivery(userId, m.body, m.senderId, '', 0));
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(new Error(`${userId}: ${err.message}`)));
  });
  return { userId, socket };
}

/** As a client's reconnect loop does: a refused or timed-out handshake is tried again, backing off. */
async function openWithRetry(url: string, userId: string): Promise<Client> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(url, userId);
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/** Opens the clients 200 at a time, reporting progress. */
async function connectAll(url: string, userIds: string[]): Promise<void> {
  for (let i = 0; i < userIds.length; i += 200) {
    const batch = await Promise.all(userIds.slice(i, i + 200).map((u) => open(url, u)));
    for (const c of batch) clients.set(c.userId, c);
    reply({ type: 'progress', connected: clients.size });
  }
}

function request(c: Client, event: string, payload: unknown): Promise<{ ok: boolean; error?: { code: string }; [k: string]: unknown }> {
  return c.socket.timeout(30_000).emitWithAck(event, payload);
}

/**
 * Sends `rate` messages per second for `seconds`, round-robin over `sends` (sender,
 * conversation), without waiting for acks (as many clients each sending would), then
 * waits for the outstanding acks. Ack latency is measured from the send to the ack.
 */
async function load(sends: Send[], rate: number, seconds: number, tag: string): Promise<LoadReport> {
  const acks: number[] = [];
  let sent = 0;
  let acked = 0;
  let lastAckAt = 0;
  const errors: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const started = now();
  const total = Math.round(rate * seconds);
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        const { userId, conversationId, threadRootSeq } = sends[next++ % sends.length]!;
        const c = clients.get(userId)!;
        const t0 = now();
        const body = `${t0}|${PAD}`;
        const ack = target === 'chat'
          ? request(c, 'message:send', { conversationId, clientMsgId: `${tag}-${userId}-${sent}`, body, ...(threadRootSeq !== undefined && { threadRootSeq }) })
          : request(c, 'relay', { room: conversationId, body, senderId: userId });
        pending.push(ack.then(
          (a) => {
            if (a.ok) {
              acked++;
              lastAckAt = now();
              acks.push(lastAckAt - t0);
            } else errors[a.error?.code ?? 'UNKNOWN'] = (errors[a.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
          },
          () => void (errors.TIMEOUT = (errors.TIMEOUT ?? 0) + 1),
        ));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const sendSeconds = (now() - started) / 1000;
  await Promise.all(pending);
  return { sent, acked, errors, sendSeconds, startedAt: started, lastAckAt, ackLatencies: acks };
}

/**
 * One client at and past its limits, as an abusive or buggy app would be: large sends
 * at `sendsPerS` without waiting for acks (past the server's send rate, so many are
 * refused), and `historyLoops` loops each asking for the largest history page again as
 * soon as the last one is answered or the server's retryAfterMs has passed.
 */
async function heavy(cmd: Extract<WorkerCommand, { type: 'heavy' }>): Promise<HeavyReport> {
  const c = clients.get(cmd.userId)!;
  const report: HeavyReport = { acked: 0, refused: {}, historyAnswers: 0, historyBytes: 0 };
  const refuse = (code: string) => void (report.refused[code] = (report.refused[code] ?? 0) + 1);
  const deadline = now() + cmd.seconds * 1000;
  const body = 'h'.repeat(cmd.bodyBytes);
  const pending: Promise<void>[] = [];
  let sent = 0;
  const started = now();
  const sends = new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.floor(((now() - started) / 1000) * cmd.sendsPerS);
      for (; sent < due; sent++) {
        pending.push(request(c, 'message:send', { conversationId: cmd.conversationId, clientMsgId: `heavy-${sent}`, body }).then(
          (a) => (a.ok ? void report.acked++ : refuse(a.error?.code ?? 'UNKNOWN')),
          () => refuse('TIMEOUT'),
        ));
      }
      if (now() >= deadline) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const histories = Array.from({ length: cmd.historyLoops }, async () => {
    while (now() < deadline) {
      try {
        const page = await request(c, 'history', { conversationId: cmd.conversationId, limit: 200 });
        if (page.ok) {
          report.historyAnswers++;
          report.historyBytes += JSON.stringify(page).length;
        } else {
          refuse(`history ${page.error?.code ?? 'UNKNOWN'}`);
          // At its limits, not past them: the next try comes when the server said it would be admitted.
          const retryAfterMs = (page.error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 1;
          await new Promise((r) => setTimeout(r, retryAfterMs));
        }
      } catch {
        refuse('history TIMEOUT');
      }
    }
  });
  await Promise.all([sends, ...histories]);
  await Promise.all(pending);
  return report;
}

async function handle(cmd: WorkerCommand): Promise<WorkerReply> {
  switch (cmd.type) {
    case 'connect':
      target = cmd.target;
      await connectAll(cmd.url, cmd.userIds);
      return { type: 'connected', connected: clients.size };
    case 'create': {
      // Direct conversations for pairs, groups with the given members; the first member creates.
      if (target === 'relay') return { type: 'created', ids: cmd.conversations.map((c) => c.id) };
      const ids: string[] = [];
      for (let i = 0; i < cmd.conversations.length; i += 20) {
        ids.push(...(await Promise.all(cmd.conversations.slice(i, i + 20).map(async (spec) => {
          const others = spec.members.slice(1);
          const ack = await request(clients.get(spec.members[0]!)!, 'conversation:create',
            spec.kind === 'direct' ? { type: 'direct', members: others } : { type: 'group', members: others, title: spec.id });
          if (!ack.ok) throw new Error(`conversation:create: ${ack.error?.code}`);
          return (ack.conversation as { id: string }).id;
        }))));
      }
      return { type: 'created', ids };
    }
    case 'join':
      // The relay server's rooms; the chat gateway joins members itself.
      await Promise.all(cmd.joins.map(({ userId, room }) => request(clients.get(userId)!, 'join', room)));
      return { type: 'joined' };
    case 'load':
      return { type: 'loaded', report: await load(cmd.sends, cmd.rate, cmd.seconds, cmd.tag) };
    case 'collect': {
      const out = { type: 'collected' as const, deliveries, latencies, lastDeliveryAt };
      deliveries = 0;
      lastDeliveryAt = 0;
      latencies = [];
      return out;
    }
    case 'cursors': {
      const cursors: Record<string, string> = {};
      await Promise.all(cmd.userIds.map(async (u) => (cursors[u] = await syncFrom(clients.get(u)!, undefined).then((r) => r.next))));
      return { type: 'cursors', cursors };
    }
    case 'drop':
      for (const u of cmd.userIds) {
        clients.get(u)!.socket.disconnect();
        clients.delete(u);
      }
      return { type: 'dropped' };
    case 'sendEach': {
      const acked = await Promise.all(cmd.sends.map(async ({ userId, conversationId }, i) => {
        const ack = await request(clients.get(userId)!, 'message:send', { conversationId, clientMsgId: `${cmd.tag}-${i}`, body: `0|${PAD}` });
        if (!ack.ok) throw new Error(`message:send: ${ack.error?.code}`);
        return `${conversationId}#${ack.seq as number}`;
      }));
      return { type: 'sent', keys: acked };
    }
    case 'storm': {
      // Everyone reconnects at once and syncs from its cursor; a user is caught up when it
      // has every message it expects, through sync or live delivery.
      trackSeen = true;
      const started = now();
      const missing: string[] = [];
      await Promise.all(cmd.users.map(async ({ userId, cursor, expect }) => {
        const c = await openWithRetry(cmd.url, userId);
        clients.set(userId, c);
        const got = new Set((await syncFrom(c, cursor)).keys);
        const deadline = now() + 30_000;
        const lacking = () => expect.filter((e) => !got.has(e) && !seen.get(userId)?.has(e));
        while (lacking().length > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 20));
        missing.push(...lacking().map((e) => `${userId}:${e}`));
      }));
      return { type: 'stormed', seconds: (now() - started) / 1000, missing };
    }
    case 'heavy':
      return { type: 'heavied', report: await heavy(cmd) };
    case 'close':
      for (const c of clients.values()) c.socket.disconnect();
      clients.clear();
      return { type: 'closed' };
  }
}

/** `sync` from a cursor to the end; returns the message keys it saw and the last cursor. */
async function syncFrom(c: Client, since: string | undefined): Promise<{ next: string; keys: string[] }> {
  const keys: string[] = [];
  let retries = 0;
  for (;;) {
    const page = await request(c, 'sync', { limit: 500, ...(since !== undefined && { since }) }) as unknown as {
      ok: boolean; next: string; hasMore: boolean; events: Array<{ type: string; conversationId: string; seq: number }>; error?: { code: string };
    };
    if (!page.ok && page.error?.code === 'UNAVAILABLE' && retries < 8) {
      // What docs/protocol.md asks of clients: retry UNAVAILABLE, backing off.
      await new Promise((r) => setTimeout(r, 100 * 2 ** retries++ * (0.5 + Math.random())));
      continue;
    }
    if (!page.ok) throw new Error(`sync: ${page.error?.code}`);
    for (const e of page.events) if (e.type === 'message') keys.push(`${e.conversationId}#${e.seq}`);
    since = page.next;
    if (!page.hasMore) return { next: page.next, keys };
  }
}

process.on('message', (cmd: WorkerCommand) => {
  handle(cmd).then(reply, (err: Error) => reply({ type: 'error', message: err.message }));
});
