import type { AckFailure } from '@chat/contracts';

export interface PendingSend {
  conversationId: string;
  clientMsgId: string;
  body: string;
  replyToSeq?: number;
  resolve(result: { seq: number; sentAt: string; duplicate?: boolean }): void;
  reject(error: AckFailure['error']): void;
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

  pending(): readonly PendingSend[] {
    return this.queue;
  }

  get size(): number {
    return this.queue.length;
  }
}
