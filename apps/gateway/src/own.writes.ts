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
  private readonly pending = new Map<number, number>();

  note(partition: number, seq: number): void {
    if (seq > (this.pending.get(partition) ?? 0)) this.pending.set(partition, seq);
  }

  /**
   * `undefined` when the projection already holds every acked write (the usual case: no
   * promise, no round trip); otherwise resolves true once it does, false after `timeoutMs`.
   */
  caughtUp(watch: Pick<ProjectionWatch, 'reached' | 'waitFor'>, timeoutMs = OWN_WRITES_WAIT_MS): Promise<boolean> | undefined {
    if (this.pending.size === 0) return undefined;
    for (const [partition, seq] of this.pending) if (watch.reached(partition) >= seq) this.pending.delete(partition);
    if (this.pending.size === 0) return undefined;
    const owed = [...this.pending];
    return Promise.all(owed.map(([partition, seq]) => watch.waitFor(partition, seq, timeoutMs))).then((reached) => {
      owed.forEach(([partition, seq], i) => {
        // A later write noted meanwhile stays owed.
        if (reached[i] && this.pending.get(partition) === seq) this.pending.delete(partition);
      });
      return reached.every(Boolean);
    });
  }
}
