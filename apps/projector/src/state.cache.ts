import type { Conversation } from '@chat/domain';

/**
 * The projector's copy of recent conversation states, so a busy conversation is not read
 * back from Postgres on every batch. Correct only because one projector owns a partition:
 * entries change after a commit and are dropped when a commit fails.
 */
export class StateCache {
  private readonly entries = new Map<string, Conversation>();

  constructor(private readonly capacity: number) {}

  get(id: string): Conversation | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      // Re-insert to mark it recently used; Map iteration order is insertion order.
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  set(id: string, state: Conversation): void {
    this.entries.delete(id);
    this.entries.set(id, state);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
