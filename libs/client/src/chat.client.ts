import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AckResults,
  ChatEvent,
  ClientPayload,
  ConversationSummary,
  Message,
  Presence,
  SyncResult,
  Typing,
} from '@chat/contracts';
import { MemoryCursorStore, type CursorStore } from './cursor.store.js';
import { Outbox, RETRIABLE, type PendingSend } from './outbox.js';
import { TypingThrottle } from './typing.throttle.js';

export interface ChatClientOptions {
  url: string;
  /** A token, or a function that returns a fresh one at every (re)connect. */
  token: string | (() => string | Promise<string>);
  cursorStore?: CursorStore;
  /** Ack timeout of one request, after which a send is retried with the same id. */
  requestTimeoutMs?: number;
  transports?: Array<'websocket' | 'polling'>;
}

/** What a client application listens to. */
export interface ChatClientEvents {
  /** Every conversation event, live or from sync, once per (conversation, seq). */
  event: (event: ChatEvent) => void;
  typing: (event: Typing) => void;
  presence: (event: Presence) => void;
  /** A snapshot replaced the client's state (first sync, or a cursor too old). */
  snapshot: (conversations: ConversationSummary[], messages: ChatEvent[]) => void;
  /** Connected (and caught up) or not: for an offline banner. */
  status: (online: boolean) => void;
}

const DEDUPE_KEEP = 10_000;

/**
 * The client side of docs/protocol.md: connect with a token, sync from the stored cursor after
 * every (re)connect, drop duplicates by (conversationId, seq), send through an outbox that
 * retries with the same clientMsgId across reconnects, and throttle typing.
 */
export class ChatClient {
  readonly socket: Socket;
  private readonly store: CursorStore;
  private readonly outbox = new Outbox();
  private readonly seen = new Set<string>();
  private readonly listeners: { [K in keyof ChatClientEvents]: Set<ChatClientEvents[K]> } = {
    event: new Set(), typing: new Set(), presence: new Set(), snapshot: new Set(), status: new Set(),
  };
  private readonly typingThrottle: TypingThrottle;
  private flushing = false;
  /** Live events that arrive while catching up: delivered after the sync's, in seq order. */
  private held?: ChatEvent[];

  constructor(private readonly options: ChatClientOptions) {
    this.store = options.cursorStore ?? new MemoryCursorStore();
    this.socket = io(options.url, {
      autoConnect: false,
      transports: options.transports ?? ['websocket'],
      withCredentials: true,
      auth: (cb) => {
        const t = options.token;
        void Promise.resolve(typeof t === 'function' ? t() : t).then((token) => cb({ token }));
      },
    });
    this.typingThrottle = new TypingThrottle((conversationId, state) => {
      void this.request('typing', { conversationId, state }).catch(() => undefined);
    });
    for (const name of ['message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read'] as const) {
      this.socket.on(name, (e: ChatEvent) => (this.held ? this.held.push(e) : this.deliver(e)));
    }
    this.socket.on('typing', (t: Typing) => this.fire('typing', t));
    this.socket.on('presence', (p: Presence) => this.fire('presence', p));
    this.socket.on('connect', () => void this.onConnect());
    this.socket.on('disconnect', () => this.fire('status', false));
  }

  on<K extends keyof ChatClientEvents>(name: K, listener: ChatClientEvents[K]): () => void {
    this.listeners[name].add(listener);
    return () => this.listeners[name].delete(listener);
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.typingThrottle.clear();
    this.socket.disconnect();
  }

  get online(): boolean {
    return this.socket.connected;
  }

  /** Sends a message; resolves with its seq once the server has it, however many reconnects that takes. */
  send(conversationId: string, body: string, opts: { replyToSeq?: number; clientMsgId?: string } = {}): Promise<AckResults['message:send']> {
    this.typingThrottle.stop(conversationId);
    return new Promise((resolve, reject) => {
      this.outbox.add({
        conversationId, body, clientMsgId: opts.clientMsgId ?? crypto.randomUUID(), resolve, reject,
        ...(opts.replyToSeq !== undefined && { replyToSeq: opts.replyToSeq }),
      });
      void this.flush();
    });
  }

  /** Call on every keystroke: the server hears `start` once, and `stop` after 3 s of silence. */
  keystroke(conversationId: string): void {
    this.typingThrottle.keystroke(conversationId);
  }

  async history(conversationId: string, beforeSeq?: number, limit = 50): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.request('history', { conversationId, limit, ...(beforeSeq !== undefined && { beforeSeq }) });
  }

  async markRead(conversationId: string, seq: number): Promise<void> {
    await this.request('read', { conversationId, seq });
  }

  async watchPresence(userIds: string[]): Promise<Presence[]> {
    return (await this.request('presence:subscribe', { userIds })).presence;
  }

  async unwatchPresence(userIds: string[]): Promise<void> {
    await this.request('presence:unsubscribe', { userIds });
  }

  /** Any command of the protocol; rejects with the server's `{ code, message }`. */
  async request<E extends keyof AckResults>(event: E, payload: ClientPayload<E>): Promise<AckResults[E]> {
    const ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck(event, payload)) as Ack<AckResults[E]>;
    if (!ack.ok) throw Object.assign(new Error(`${event}: ${ack.error.code} ${ack.error.message}`), ack.error);
    const { ok: _ok, ...result } = ack;
    return result as unknown as AckResults[E];
  }

  /** After every (re)connect: catch up from the stored cursor, then send what waited. */
  private async onConnect(): Promise<void> {
    this.held = [];
    try {
      await this.catchUp();
    } finally {
      const held = this.held.sort((a, b) => a.seq - b.seq);
      this.held = undefined;
      for (const e of held) this.deliver(e);
    }
    this.fire('status', true);
    await this.flush();
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      let result: SyncResult;
      try {
        const since = await this.store.get();
        result = await this.request('sync', since ? { since } : {});
      } catch (err) {
        // The connection's other queries (history pages the app asked for) took every slot: soon again.
        const { code, retryAfterMs } = err as { code?: string; retryAfterMs?: number };
        if (code === 'RATE_LIMITED' && this.socket.connected) {
          await new Promise((r) => setTimeout(r, retryAfterMs ?? 1_000));
          continue;
        }
        return; // offline again: the next connect syncs
      }
      if (result.conversations) this.fire('snapshot', result.conversations, result.events);
      for (const e of result.events) this.deliver(e);
      await this.store.set(result.next);
      if (!result.hasMore) return;
    }
  }

  /** Sends the outbox in order while connected; what fails for a passing reason stays for the next try. */
  private async flush(): Promise<void> {
    if (this.flushing || !this.socket.connected) return;
    this.flushing = true;
    try {
      while (this.outbox.size > 0 && this.socket.connected) {
        const send = this.outbox.pending()[0]!;
        const outcome = await this.attempt(send);
        if (outcome === 'retry-later') return;
        if (typeof outcome === 'number') await new Promise((r) => setTimeout(r, outcome));
      }
    } finally {
      this.flushing = false;
    }
  }

  /** 'done', 'retry-later' (offline), or ms to wait before trying again (rate limited). */
  private async attempt(send: PendingSend): Promise<'done' | 'retry-later' | number> {
    let ack: Ack<AckResults['message:send']>;
    try {
      ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck('message:send', {
        conversationId: send.conversationId, clientMsgId: send.clientMsgId, body: send.body,
        ...(send.replyToSeq !== undefined && { replyToSeq: send.replyToSeq }),
      })) as Ack<AckResults['message:send']>;
    } catch {
      return 'retry-later'; // no answer: the next connect sends it again, same id
    }
    if (ack.ok) {
      this.outbox.remove(send);
      const { ok: _ok, ...result } = ack;
      send.resolve(result);
      return 'done';
    }
    if (ack.error.code === 'RATE_LIMITED') return ack.error.retryAfterMs ?? 1_000;
    if (RETRIABLE.has(ack.error.code)) return this.socket.connected ? 1_000 : 'retry-later';
    this.outbox.remove(send);
    send.reject(ack.error);
    return 'done';
  }

  /** Once per (conversation, seq); a read marker once per (conversation, reader, marker). */
  private deliver(e: ChatEvent): void {
    const key = e.type === 'read' ? `r:${e.conversationId}:${e.userId}:${e.seq}` : `${e.conversationId}:${e.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > DEDUPE_KEEP) this.seen.delete(this.seen.values().next().value!);
    this.fire('event', e);
  }

  private fire<K extends keyof ChatClientEvents>(name: K, ...args: Parameters<ChatClientEvents[K]>): void {
    for (const l of this.listeners[name]) (l as (...a: Parameters<ChatClientEvents[K]>) => void)(...args);
  }
}
