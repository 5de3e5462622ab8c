import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import type { Ack, AckResults, ChatEvent, ClientPayload, Message, Presence, Typing } from '@chat/contracts';
import { TEST_JWT_SECRET } from './namespace';
import { waitFor } from './wait';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

export async function tokenFor(userId: string, opts: { deviceId?: string; expiresIn?: number; secret?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(opts.deviceId ? { did: opts.deviceId } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 3600))
    .sign(opts.secret ? new TextEncoder().encode(opts.secret) : key);
}

/** A connected test client that records every event it receives. */
export interface TestClient {
  userId: string;
  socket: Socket;
  received: ChatEvent[];
  presence: Presence[];
  typing: Typing[];
  messages(): Extract<ChatEvent, { type: 'message' }>[];
  request<E extends keyof AckResults>(event: E, payload: ClientPayload<E> | unknown, timeoutMs?: number): Promise<Ack<AckResults[E]>>;
  /** The ack's result, or a thrown error naming the code. */
  ok<E extends keyof AckResults>(event: E, payload: ClientPayload<E> | unknown): Promise<{ ok: true } & AckResults[E]>;
  close(): void;
}

export async function connectClient(
  url: string,
  userId: string,
  opts: { deviceId?: string; token?: string; transports?: Array<'websocket' | 'polling'> } = {},
): Promise<TestClient> {
  const token = opts.token ?? (await tokenFor(userId, { deviceId: opts.deviceId }));
  // withCredentials keeps the load balancer's sticky cookie for polling.
  const socket = io(url, { auth: { token }, transports: opts.transports ?? ['websocket'], reconnection: false, forceNew: true, withCredentials: true });
  const received: ChatEvent[] = [];
  for (const name of ['message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read', 'notify'] as const) {
    socket.on(name, (e: ChatEvent) => received.push(e));
  }
  const presence: Presence[] = [];
  const typing: Typing[] = [];
  socket.on('presence', (p: Presence) => presence.push(p));
  socket.on('typing', (t: Typing) => typing.push(t));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  const client: TestClient = {
    userId,
    socket,
    received,
    presence,
    typing,
    messages: () => received.filter((e): e is Extract<ChatEvent, { type: 'message' }> => e.type === 'message'),
    request: (event, payload, timeoutMs = 15_000) => socket.timeout(timeoutMs).emitWithAck(event, payload),
    ok: async (event, payload) => {
      const ack = await client.request(event, payload);
      if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
      return ack;
    },
    close: () => socket.disconnect(),
  };
  return client;
}

/** Resolves with a connect_error message, or throws if the socket connected. */
export async function refusedWith(url: string, auth: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true, ...extra });
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected, but should have been refused')));
      socket.once('connect_error', (err) => resolve(err.message));
    });
  } finally {
    socket.disconnect();
  }
}

/** Waits until the client has received `n` events matching `filter`. */
export function waitForEvents(client: TestClient, n: number, filter: (e: ChatEvent) => boolean = () => true, timeoutMs = 20_000) {
  return waitFor(`${client.userId} to receive ${n} events (has ${client.received.filter(filter).length})`, () => {
    const got = client.received.filter(filter);
    return got.length >= n ? got : undefined;
  }, timeoutMs);
}

/** A conversation's whole history, oldest first, paging back 200 at a time. */
export async function wholeHistory(client: TestClient, conversationId: string): Promise<Message[]> {
  const pages: Message[][] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await client.ok('history', { conversationId, limit: 200, ...(beforeSeq !== undefined && { beforeSeq }) });
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) return pages.flat();
    beforeSeq = page.messages[0]!.seq;
  }
}
