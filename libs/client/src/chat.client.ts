import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AckResults,
  Attachment,
  ChatEvent,
  ClientPayload,
  ConversationSummary,
  Message,
  NotifyLevel,
  Presence,
  Receipt,
  SyncResult,
  Typing,
} from '@chat/contracts';
import { MemoryCursorStore, type CursorStore } from './cursor.store.js';
import { EventDedupe } from './event.dedupe.js';
import { Outbox, RETRIABLE, stored, type OutboxEntry, type PendingSend, type StoredSend } from './outbox.js';
import { MemoryOutboxStore, type OutboxStore } from './outbox.store.js';
import { ownEvent } from './own.events.js';
import { tokenSubject } from './token.subject.js';
import { TypingThrottle } from './typing.throttle.js';
import { putObject, type UploadFile, type UploadProgress } from './upload.js';

export interface ChatClientOptions {
  /** The server's absolute URL (`location.origin` in a page the server serves). */
  url: string;
  /** A token, or a function that returns a fresh one at every (re)connect. */
  token: string | (() => string | Promise<string>);
  cursorStore?: CursorStore;
  /** Where unsent messages wait; `LocalStorageOutboxStore` in a browser keeps them across reloads. */
  outboxStore?: OutboxStore;
  /** Whose actions the acks describe; by default the token's `sub`. */
  userId?: string;
  /** Ack timeout of one request, after which a send is retried with the same id. */
  requestTimeoutMs?: number;
  transports?: Array<'websocket' | 'polling'>;
}

export interface SendOptions {
  /** Quotes the message at this seq. */
  replyToSeq?: number;
  /** A reply in the thread of the message at this seq (a root: not itself a reply). */
  threadRootSeq?: number;
  /** Members the message mentions (at most 50): `mentionsIn(body, members)` finds the `@id`s of a body. */
  mentions?: string[];
  /** The send's idempotency key; a fresh UUID by default. */
  clientMsgId?: string;
  /** Files uploaded with `upload()` to this conversation (at most 10); with them, `body` may be empty. */
  attachments?: Attachment[];
}

export interface UploadOptions {
  /** Called as bytes reach S3 (in a browser, as they leave; elsewhere once at the end). */
  onProgress?: UploadProgress;
  signal?: AbortSignal;
}

/** What a client application listens to. */
export interface ChatClientEvents {
  /**
   * Every conversation event once per (conversation, seq): live, from sync, and this
   * client's own commands (sends, edits, deletes, reactions, creations and membership changes, reads)
   * made from their acks, since the server sends those to the other connections only.
   */
  event: (event: ChatEvent) => void;
  /** A send's progress: `pending` at once (and for sends restored from the store), then `sent` or `failed`. */
  outbox: (entry: OutboxEntry) => void;
  typing: (event: Typing) => void;
  presence: (event: Presence) => void;
  /** A snapshot replaced the client's state (first sync, or a cursor too old). */
  snapshot: (conversations: ConversationSummary[], messages: ChatEvent[]) => void;
  /** Connected and caught up (true), or not (false): for an offline banner. Fired on changes. */
  status: (online: boolean) => void;
}

/**
 * The client side of docs/protocol.md: connect with a token, sync from the stored cursor after
 * every (re)connect, drop duplicates by (conversationId, seq), send through an outbox that
 * retries with the same clientMsgId across reconnects (and reloads, with a persistent
 * store), put the client's own actions into the same event stream, and throttle typing.
 */
export class ChatClient {
  readonly socket: Socket;
  private readonly store: CursorStore;
  private readonly outboxStore: OutboxStore;
  private readonly outbox = new Outbox();
  private readonly dedupe = new EventDedupe();
  private readonly listeners: { [K in keyof ChatClientEvents]: Set<ChatClientEvents[K]> } = {
    event: new Set(), outbox: new Set(), typing: new Set(), presence: new Set(), snapshot: new Set(), status: new Set(),
  };
  private readonly typingThrottle: TypingThrottle;
  private me?: string;
  private flushing = false;
  private reported?: boolean;
  private wanted = false;
  private restored?: Promise<void>;
  /** conversation -> the seq of the latest `notify` delivered: an older one is stale (docs/sdk.md). */
  private readonly notifySeqs = new Map<string, number>();
  /** Events that arrive while catching up: delivered after the sync's, in seq order. */
  private held?: Array<{ e: ChatEvent; own: boolean }>;

  constructor(private readonly options: ChatClientOptions) {
    this.store = options.cursorStore ?? new MemoryCursorStore();
    this.outboxStore = options.outboxStore ?? new MemoryOutboxStore();
    this.me = options.userId;
    this.socket = io(options.url, {
      autoConnect: false,
      transports: options.transports ?? ['websocket'],
      withCredentials: true,
      auth: (cb) => {
        const t = options.token;
        Promise.resolve()
          .then(() => (typeof t === 'function' ? t() : t))
          .then(
            (token) => {
              this.me = options.userId ?? tokenSubject(token) ?? this.me;
              cb({ token });
            },
            // No token this time: this attempt fails and Socket.IO tries again with its backoff.
            () => this.socket.io.engine?.close(),
          );
      },
    });
    this.typingThrottle = new TypingThrottle((conversationId, state) => {
      void this.request('typing', { conversationId, state }).catch(() => undefined);
    });
    for (const name of ['message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read', 'notify'] as const) {
      this.socket.on(name, (e: ChatEvent) => this.take(e, false));
    }
    this.socket.on('typing', (t: Typing) => this.fire('typing', t));
    this.socket.on('presence', (p: Presence) => this.fire('presence', p));
    this.socket.on('connect', () => void this.onConnect());
    this.socket.on('disconnect', () => this.report(false));
    this.socket.on('connect_error', () => this.report(false));
  }

  on<K extends keyof ChatClientEvents>(name: K, listener: ChatClientEvents[K]): () => void {
    this.listeners[name].add(listener);
    return () => this.listeners[name].delete(listener);
  }

  /** Loads the stored outbox (each send announced `pending`), then connects. */
  connect(): void {
    this.wanted = true;
    this.restored ??= this.restore();
    void this.restored.then(() => this.wanted && this.socket.connect());
  }

  close(): void {
    this.wanted = false;
    this.typingThrottle.clear();
    this.socket.disconnect();
  }

  get online(): boolean {
    return this.socket.connected;
  }

  /** The signed-in user (the token's `sub`), known from the first connect on. */
  get userId(): string | undefined {
    return this.me;
  }

  /** Resolves once connected and caught up (at once if so already). */
  ready(): Promise<void> {
    if (this.reported && this.socket.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('status', (up) => up && (off(), resolve()));
    });
  }

  /**
   * Sends a message. Listeners hear the `pending` entry before this returns, then `sent`
   * (after the `message` event made from the ack) or `failed`. Resolves with the seq once
   * the server has it, however many reconnects that takes; rejects with `{ code, message }`
   * for an error a retry cannot fix.
   */
  send(conversationId: string, body: string, opts: SendOptions = {}): Promise<AckResults['message:send']> {
    this.typingThrottle.stop(conversationId);
    return new Promise((resolve, reject) => {
      const send: PendingSend = {
        conversationId, body, clientMsgId: opts.clientMsgId ?? crypto.randomUUID(), createdAt: new Date().toISOString(), resolve, reject,
        ...(opts.replyToSeq !== undefined && { replyToSeq: opts.replyToSeq }),
        ...(opts.threadRootSeq !== undefined && { threadRootSeq: opts.threadRootSeq }),
        ...(opts.mentions !== undefined && opts.mentions.length > 0 && { mentions: [...new Set(opts.mentions)] }),
        ...(opts.attachments !== undefined && opts.attachments.length > 0 && { attachments: opts.attachments.map(({ id, name, contentType, size }) => ({ id, name, contentType, size })) }),
      };
      this.queue(send);
      void this.flush();
    });
  }

  /** The sends waiting for the server, oldest first. */
  pending(): OutboxEntry[] {
    return this.outbox.pending().map((s) => ({ ...stored(s), status: 'pending' }));
  }

  /**
   * Uploads a file for a message of this conversation: `attachment:create`, then the bytes
   * straight to S3 through the presigned URL (never through the chat server). Resolves with
   * the attachment to pass in `send(..., { attachments })`; rejects with `{ code, message }`
   * when the server refuses (PAYLOAD_TOO_LARGE over CHAT_MAX_ATTACHMENT_BYTES, FORBIDDEN for a
   * non-member), or with an UploadError when S3 does. Send within a day: an attachment never
   * sent is deleted then.
   */
  async upload(conversationId: string, file: UploadFile & (Blob | { data: Uint8Array }), opts: UploadOptions = {}): Promise<Attachment> {
    const contentType = file.type || 'application/octet-stream';
    const grant = await this.request('attachment:create', { conversationId, name: file.name, contentType, size: file.size });
    const body = 'data' in file && file.data instanceof Uint8Array ? file.data : (file as Blob);
    await putObject(grant.uploadUrl, grant.uploadHeaders, body, opts.onProgress, opts.signal);
    return { id: grant.attachmentId, name: file.name, contentType, size: file.size };
  }

  /** A download URL of a message's attachment (valid 15 minutes; members only). */
  async attachmentUrl(conversationId: string, attachmentId: string): Promise<string> {
    return (await this.request('attachment:url', { conversationId, attachmentId })).url;
  }

  edit(conversationId: string, seq: number, body: string): Promise<{ seq: number }> {
    return this.request('message:edit', { conversationId, seq, body });
  }

  delete(conversationId: string, seq: number): Promise<{ seq: number }> {
    return this.request('message:delete', { conversationId, seq });
  }

  react(conversationId: string, seq: number, emoji: string): Promise<{ seq: number }> {
    return this.request('reaction:add', { conversationId, seq, emoji });
  }

  unreact(conversationId: string, seq: number, emoji: string): Promise<{ seq: number }> {
    return this.request('reaction:remove', { conversationId, seq, emoji });
  }

  /** Call on every keystroke: the server hears `start` once, and `stop` after 3 s of silence. */
  keystroke(conversationId: string): void {
    this.typingThrottle.keystroke(conversationId);
  }

  /** A page of the main timeline (thread replies left out; roots carry their `thread` summary), newest `limit` before `beforeSeq`. */
  async history(conversationId: string, beforeSeq?: number, limit = 50): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.request('history', { conversationId, limit, ...(beforeSeq !== undefined && { beforeSeq }) });
  }

  /**
   * Full-text search over the messages the user may read, newest first: words are ANDed,
   * `"quoted words"` a phrase, `-word` excluded. `conversationId` narrows it to one
   * conversation; `before` is the previous page's `next`. A query with no word to look up
   * (only operators, only excluded words) is refused (`BAD_REQUEST`).
   */
  async search(query: string, opts: { conversationId?: string; limit?: number; before?: string } = {}): Promise<{ hits: Message[]; next?: string }> {
    return this.request('search', { query, ...opts });
  }

  /** A page of the replies in the thread of the root at `rootSeq`, paged like `history`. */
  async threadHistory(conversationId: string, rootSeq: number, beforeSeq?: number, limit = 50): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.request('history', { conversationId, threadRootSeq: rootSeq, limit, ...(beforeSeq !== undefined && { beforeSeq }) });
  }

  /**
   * The user's own notification setting in a conversation, for all its devices: `all`,
   * `mentions` (only messages that mention it), `none`; `muteUntil` silences everything
   * until then (a setting without it ends a mute). The stream hears the `notify` event at
   * once (made from the ack, `seq` 0); the user's other devices get the server's.
   */
  async setNotify(conversationId: string, level: NotifyLevel, muteUntil?: Date | string): Promise<void> {
    const until = muteUntil === undefined ? undefined : typeof muteUntil === 'string' ? muteUntil : muteUntil.toISOString();
    await this.request('conversation:notify', { conversationId, level, ...(until !== undefined && { muteUntil: until }) });
  }

  /**
   * Every member's read marker (conversations of fewer than `CHAT_PUSH_FANOUT_MAX` members,
   * else `BAD_REQUEST`): "seen by" for a message are the others at or past its seq, kept
   * current by the `read` events of the stream.
   */
  async receipts(conversationId: string): Promise<Receipt[]> {
    return (await this.request('receipts', { conversationId })).members;
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

  /**
   * Any command of the protocol; rejects with the server's `{ code, message }`. A command
   * that changes a conversation also reaches the `event` listeners, made from its ack.
   */
  async request<E extends keyof AckResults>(event: E, payload: ClientPayload<E>): Promise<AckResults[E]> {
    const ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck(event, payload)) as Ack<AckResults[E]>;
    if (!ack.ok) throw Object.assign(new Error(`${event}: ${ack.error.code} ${ack.error.message}`), ack.error);
    const { ok: _ok, ...result } = ack;
    this.own(event, payload, result as unknown as AckResults[E]);
    return result as unknown as AckResults[E];
  }

  private queue(send: PendingSend): void {
    this.outbox.add(send);
    void Promise.resolve(this.outboxStore.put(stored(send))).catch(() => undefined);
    this.fire('outbox', { ...stored(send), status: 'pending' });
  }

  /** Sends a previous run left in the store go out again, with their ids, before anything new. */
  private async restore(): Promise<void> {
    let sends: StoredSend[] = [];
    try {
      sends = await this.outboxStore.load();
    } catch {
      return; // an unreadable store holds nothing to resend
    }
    for (const s of sends) {
      if (this.outbox.has(s.clientMsgId)) continue;
      this.queue({ ...stored(s), resolve: () => undefined, reject: () => undefined });
    }
  }

  /** After every (re)connect: catch up from the stored cursor, then send what waited. */
  private async onConnect(): Promise<void> {
    this.held = [];
    try {
      await this.catchUp();
    } finally {
      const held = this.held.sort((a, b) => a.e.seq - b.e.seq);
      this.held = undefined;
      for (const h of held) this.deliver(h.e, h.own);
    }
    if (this.socket.connected) this.report(true);
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
      for (const e of result.events) this.deliver(e, false);
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
    const payload: ClientPayload<'message:send'> = {
      conversationId: send.conversationId, clientMsgId: send.clientMsgId, body: send.body,
      ...(send.replyToSeq !== undefined && { replyToSeq: send.replyToSeq }),
      ...(send.threadRootSeq !== undefined && { threadRootSeq: send.threadRootSeq }),
      ...(send.mentions !== undefined && { mentions: send.mentions }),
      ...(send.attachments !== undefined && { attachments: send.attachments.map((a) => a.id) }),
    };
    let ack: Ack<AckResults['message:send']>;
    try {
      ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck('message:send', payload)) as Ack<AckResults['message:send']>;
    } catch {
      return 'retry-later'; // no answer: the next connect sends it again, same id
    }
    if (ack.ok) {
      const { ok: _ok, ...result } = ack;
      this.settle(send);
      this.ownSend(payload, result, send.attachments);
      this.fire('outbox', { ...stored(send), status: 'sent', ...result });
      send.resolve(result);
      return 'done';
    }
    if (ack.error.code === 'RATE_LIMITED') return ack.error.retryAfterMs ?? 1_000;
    if (RETRIABLE.has(ack.error.code)) return this.socket.connected ? 1_000 : 'retry-later';
    this.settle(send);
    this.fire('outbox', { ...stored(send), status: 'failed', error: ack.error });
    send.reject(ack.error);
    return 'done';
  }

  private settle(send: PendingSend): void {
    this.outbox.remove(send);
    void Promise.resolve(this.outboxStore.remove(send.clientMsgId)).catch(() => undefined);
  }

  /** A send's own event carries its attachments' metadata, which the payload names by id only. */
  private ownSend(payload: ClientPayload<'message:send'>, result: AckResults['message:send'], attachments: Attachment[] | undefined): void {
    if (!this.me) return;
    const e = ownEvent('message:send', payload, result, this.me);
    if (e?.type === 'message' && attachments?.length) e.attachments = attachments;
    if (e) this.take(e, true);
  }

  /** The event a command's ack stands for, into the same stream as the server's. */
  private own<E extends keyof AckResults>(command: E, payload: ClientPayload<E>, result: AckResults[E]): void {
    if (this.me === undefined) return;
    const e = ownEvent(command, payload, result, this.me);
    if (e) this.take(e, true);
  }

  private take(e: ChatEvent, own: boolean): void {
    if (this.held) this.held.push({ e, own });
    else this.deliver(e, own);
  }

  private deliver(e: ChatEvent, own: boolean): void {
    if (e.type === 'notify') return this.deliverNotify(e);
    if (own ? this.dedupe.fromAck(e) : this.dedupe.fromServer(e)) this.fire('event', e);
  }

  /**
   * A setting is a state, not a change: the latest in the log counts. A copy at or before
   * one already delivered (this device's own change, synced after a later one from another
   * device; or the server's copy of the own one) is stale and dropped.
   */
  private deliverNotify(e: Extract<ChatEvent, { type: 'notify' }>): void {
    if (e.seq <= (this.notifySeqs.get(e.conversationId) ?? 0)) return;
    this.notifySeqs.set(e.conversationId, e.seq);
    this.fire('event', e);
  }

  private report(up: boolean): void {
    if (this.reported === up) return;
    this.reported = up;
    this.fire('status', up);
  }

  private fire<K extends keyof ChatClientEvents>(name: K, ...args: Parameters<ChatClientEvents[K]>): void {
    for (const l of this.listeners[name]) {
      // A listener that throws must not stop the others, nor the client's own bookkeeping.
      try {
        (l as (...a: Parameters<ChatClientEvents[K]>) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
