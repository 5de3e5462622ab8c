import type { ConversationRecord, ReadModelRepository } from '@chat/storage';

const TTL_MS = 30_000;

/**
 * The gateway's view of conversations it checks commands against: read from the read
 * model, kept for a short while, dropped as soon as a membership change passes through
 * this node. The projector re-checks every event in log order, so a stale entry can only
 * make the gateway answer early, never change what is stored.
 */
export class ConversationCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ConversationRecord | undefined> }>();

  constructor(private readonly readModel: ReadModelRepository) {}

  get(id: string): Promise<ConversationRecord | undefined> {
    const hit = this.entries.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    return this.refresh(id);
  }

  refresh(id: string): Promise<ConversationRecord | undefined> {
    const value = this.readModel.conversation(id);
    this.entries.set(id, { at: Date.now(), value });
    // Unknown conversations and failed reads are not remembered: the next ask reads again.
    value.then(
      (found) => found === undefined && this.entries.get(id)?.value === value && this.entries.delete(id),
      () => this.entries.get(id)?.value === value && this.entries.delete(id),
    );
    return value;
  }

  put(record: ConversationRecord): void {
    this.entries.set(record.id, { at: Date.now(), value: Promise.resolve(record) });
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }
}
