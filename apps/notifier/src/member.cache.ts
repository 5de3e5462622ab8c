import type { MemberSeqs } from './batch.decider';

/** Reads the current members of the given conversations, those the read model holds, in one go. */
export type MembersRead = (conversationIds: string[]) => Promise<Map<string, Map<string, number>>>;

/**
 * Conversation members for the notifier, read once per conversation rather than once per
 * message. An entry stays until the notifier sees a membership event of its conversation
 * in its own stream (every event of a partition passes through it, in order, and a
 * conversation lives in one partition), then is read again. Bounded by the members held.
 */
export class MemberCache {
  private readonly entries = new Map<string, MemberSeqs>();
  private held = 0;
  /** Conversations each running read may still store: a drop that lands meanwhile wins. */
  private readonly reads = new Set<Set<string>>();

  constructor(
    private readonly read: MembersRead,
    private readonly capacity = 1_000_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The members of those of `conversationIds` that exist; one read for the ones not held. */
  async membersOf(conversationIds: Iterable<string>): Promise<Map<string, MemberSeqs>> {
    const found = new Map<string, MemberSeqs>();
    const missing: string[] = [];
    for (const id of new Set(conversationIds)) {
      const members = this.entries.get(id);
      if (members) found.set(id, members);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const mayStore = new Set(missing);
    this.reads.add(mayStore);
    try {
      for (const [id, members] of await this.read(missing)) {
        found.set(id, members);
        if (mayStore.has(id)) this.remember(id, members);
      }
    } finally {
      this.reads.delete(mayStore);
    }
    return found;
  }

  /** The conversation's membership changed: read it again next time. */
  drop(conversationId: string): void {
    this.forget(conversationId);
    for (const mayStore of this.reads) mayStore.delete(conversationId);
  }

  private remember(id: string, members: MemberSeqs): void {
    this.forget(id);
    this.entries.set(id, members);
    this.held += members.size;
    // Map order is insertion order: the first entries are the ones read longest ago.
    while (this.held > this.capacity && this.entries.size > 1) this.forget(this.entries.keys().next().value!);
  }

  private forget(id: string): void {
    const members = this.entries.get(id);
    if (!members) return;
    this.entries.delete(id);
    this.held -= members.size;
  }
}
