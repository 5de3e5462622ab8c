import type { ReadModelRepository, SentMessage } from '@chat/storage';

/**
 * Finds the original of a resent clientMsgId in the read model. Lookups that arrive in
 * the same tick share one query, so a burst of sends costs one round trip, not one each.
 */
export class SentMessagesLookup {
  private pending: Array<{ senderId: string; clientMsgId: string; resolve: (m: SentMessage | undefined) => void; reject: (e: unknown) => void }> = [];

  constructor(private readonly readModel: ReadModelRepository) {}

  find(senderId: string, clientMsgId: string): Promise<SentMessage | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ senderId, clientMsgId, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const found = await this.readModel.sentMessages(batch);
      for (const b of batch) b.resolve(found.get(`${b.senderId}\n${b.clientMsgId}`));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
