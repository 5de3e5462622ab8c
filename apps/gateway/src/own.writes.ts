import type { ProjectionWatch } from '@chat/messaging';

/** How long a query waits for the projection to reach its connection's own writes. */
export const OWN_WRITES_WAIT_MS = 5_000;

/**
 * Read-your-writes for one connection: the highest seq its commands were acked with, per
 * partition, until the projection is known to have applied it. A query (history, sync,
 * conversation:list) waits for those first, so that it shows what the connection was
 * told is done. Noting is a map write on the command's path; checking is a look at the
 * watch's known positions, and nothing at all once they were reached.
 */
export class OwnWrites {
  /** Made at the first write: most connections of a gateway are idle, and write nothing. */
  private pending?: Map<number, number>;
  /**
   * The same writes, owed by the search index (which follows the timeline): a search
   * waits for these, so that an edit the connection was acked for is found by its new
   * text and a message it deleted is never found.
   */
  private searchPending?: Map<number, number>;

  note(partition: number, seq: number): void {
    this.pending ??= new Map();
    this.searchPending ??= new Map();
    if (seq > (this.pending.get(partition) ?? 0)) this.pending.set(partition, seq);
    if (seq > (this.searchPending.get(partition) ?? 0)) this.searchPending.set(partition, seq);
  }

  /**
   * `undefined` when the projection already holds every acked write (the usual case: no
   * promise, no round trip); otherwise resolves true once it does, false after `timeoutMs`.
   */
  caughtUp(watch: Pick<ProjectionWatch, 'reached' | 'waitFor'>, timeoutMs = OWN_WRITES_WAIT_MS, by: 'timeline' | 'search' = 'timeline'): Promise<boolean> | undefined {
    const pending = by === 'search' ? this.searchPending : this.pending;
    if (!pending?.size) return undefined;
    for (const [partition, seq] of pending) if (watch.reached(partition) >= seq) pending.delete(partition);
    if (pending.size === 0) return undefined;
    const owed = [...pending];
    return Promise.all(owed.map(([partition, seq]) => watch.waitFor(partition, seq, timeoutMs))).then((reached) => {
      owed.forEach(([partition, seq], i) => {
        // A later write noted meanwhile stays owed.
        if (reached[i] && pending.get(partition) === seq) pending.delete(partition);
      });
      return reached.every(Boolean);
    });
  }
}
