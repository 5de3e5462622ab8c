import type { AckError, Attachment } from '@chat/contracts';

/** A send as the app sees it: at once `pending`, then `sent` with its seq, or `failed` with the error. */
export interface OutboxEntry {
  conversationId: string;
  clientMsgId: string;
  body: string;
  replyToSeq?: number;
  /** A reply in the thread of the message at this seq: an app shows it there while it waits, not in the main timeline. */
  threadRootSeq?: number;
  /** The members the message mentions. */
  mentions?: string[];
  /** Files sent with it (uploaded already). */
  attachments?: Attachment[];
  /** When the app asked for the send (the client's clock), for showing it before the server has it. */
  createdAt: string;
  status: 'pending' | 'sent' | 'failed';
  /** With `sent`. */
  seq?: number;
  sentAt?: string;
  duplicate?: boolean;
  /** With `failed`: an error that sending again cannot fix (`FORBIDDEN`, `BAD_REQUEST`, ...). */
  error?: AckError;
}

/** What an outbox store keeps of a send: enough to send it again, with the same id, after a reload. */
export type StoredSend = Pick<OutboxEntry, 'conversationId' | 'clientMsgId' | 'body' | 'replyToSeq' | 'threadRootSeq' | 'mentions' | 'attachments' | 'createdAt'>;

export interface PendingSend extends StoredSend {
  resolve(result: { seq: number; sentAt: string; duplicate?: boolean }): void;
  reject(error: AckError): void;
}

/** Errors after which sending again with the same id can succeed. */
export const RETRIABLE = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'UNAUTHORIZED']);

/**
 * Sends not yet acknowledged, in the order they were made. Each keeps its clientMsgId for
 * every attempt, so the server stores it once however often it is retried.
 */
export class Outbox {
  private readonly queue: PendingSend[] = [];

  add(send: PendingSend): void {
    this.queue.push(send);
  }

  remove(send: PendingSend): void {
    const i = this.queue.indexOf(send);
    if (i >= 0) this.queue.splice(i, 1);
  }

  has(clientMsgId: string): boolean {
    return this.queue.some((s) => s.clientMsgId === clientMsgId);
  }

  pending(): readonly PendingSend[] {
    return this.queue;
  }

  get size(): number {
    return this.queue.length;
  }
}

export function stored(send: StoredSend): StoredSend {
  return {
    conversationId: send.conversationId, clientMsgId: send.clientMsgId, body: send.body, createdAt: send.createdAt,
    ...(send.replyToSeq !== undefined && { replyToSeq: send.replyToSeq }),
    ...(send.threadRootSeq !== undefined && { threadRootSeq: send.threadRootSeq }),
    ...(send.mentions !== undefined && { mentions: [...send.mentions] }),
    ...(send.attachments !== undefined && { attachments: send.attachments.map((a) => ({ ...a })) }),
  };
}
