import type { MessageRef } from '@chat/domain';

/** Roots remembered per process: a thread's replies come in bursts to a few roots. */
const MAX_ROOTS = 10_000;

/**
 * Thread roots a send was checked against, so that the replies after the first cost no
 * read before their publish. What the rules check in log order (a message of this
 * conversation that is not a reply) never changes once the root is in the log; its
 * deletion does, and a root is forgotten when this process deletes it. A deletion through
 * another process is seen when the root falls out of this cache: until then a reply to it
 * is kept, as one that raced the deletion is (threadRule in libs/domain).
 */
export class ThreadRoots {
  private readonly roots = new Map<string, MessageRef>();

  get(conversationId: string, seq: number): MessageRef | undefined {
    const key = rootKey(conversationId, seq);
    const root = this.roots.get(key);
    if (root) {
      // Most recently used last: the oldest goes first when the cache is full.
      this.roots.delete(key);
      this.roots.set(key, root);
    }
    return root;
  }

  /** Only a root a reply may go to is kept: a refusal is looked up again next time. */
  remember(conversationId: string, seq: number, root: MessageRef): void {
    if (root.inThread || root.deleted) return;
    this.roots.set(rootKey(conversationId, seq), root);
    if (this.roots.size > MAX_ROOTS) this.roots.delete(this.roots.keys().next().value!);
  }

  forget(conversationId: string, seq: number): void {
    this.roots.delete(rootKey(conversationId, seq));
  }
}

function rootKey(conversationId: string, seq: number): string {
  return `${conversationId}\n${seq}`;
}
