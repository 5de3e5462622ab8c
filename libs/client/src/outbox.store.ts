import type { StoredSend } from './outbox.js';

/**
 * Where the outbox is kept between runs, so that a send made just before a reload (or a
 * crash) goes out afterwards with the same clientMsgId: memory, localStorage, a file.
 * One entry at a time, so that two tabs sharing a store do not overwrite each other's.
 */
export interface OutboxStore {
  load(): StoredSend[] | Promise<StoredSend[]>;
  put(send: StoredSend): void | Promise<void>;
  remove(clientMsgId: string): void | Promise<void>;
}

/** Node's default: the outbox lives as long as the process. */
export class MemoryOutboxStore implements OutboxStore {
  private readonly sends = new Map<string, StoredSend>();
  load(): StoredSend[] {
    return [...this.sends.values()];
  }
  put(send: StoredSend): void {
    this.sends.set(send.clientMsgId, send);
  }
  remove(clientMsgId: string): void {
    this.sends.delete(clientMsgId);
  }
}

/** For browsers: the outbox survives a reload. Key it by user, as the cursor. */
export class LocalStorageOutboxStore implements OutboxStore {
  constructor(
    private readonly storage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void },
    private readonly key = 'chat.outbox',
  ) {}

  load(): StoredSend[] {
    try {
      const list: unknown = JSON.parse(this.storage.getItem(this.key) ?? '[]');
      return Array.isArray(list) ? list.filter(isStoredSend) : [];
    } catch {
      return []; // not ours, or cut short: nothing to resend
    }
  }

  put(send: StoredSend): void {
    this.write([...this.load().filter((s) => s.clientMsgId !== send.clientMsgId), send]);
  }

  remove(clientMsgId: string): void {
    this.write(this.load().filter((s) => s.clientMsgId !== clientMsgId));
  }

  private write(sends: StoredSend[]): void {
    if (sends.length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(sends));
  }
}

function isStoredSend(x: unknown): x is StoredSend {
  const s = x as Partial<StoredSend> | null;
  return typeof s === 'object' && s !== null && typeof s.conversationId === 'string' && typeof s.clientMsgId === 'string'
    && typeof s.body === 'string' && typeof s.createdAt === 'string' && (s.replyToSeq === undefined || typeof s.replyToSeq === 'number')
    && (s.threadRootSeq === undefined || typeof s.threadRootSeq === 'number')
    && (s.mentions === undefined || (Array.isArray(s.mentions) && s.mentions.every((u) => typeof u === 'string')));
}
