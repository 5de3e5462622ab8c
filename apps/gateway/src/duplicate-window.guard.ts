import { performance } from 'node:perf_hooks';
import type { JetStreamManager } from '@nats-io/jetstream';
import { ChatError } from '@chat/contracts';
import type { Names, ProjectionWatch } from '@chat/messaging';
import type { SentMessage } from '@chat/storage';
import type { SentMessagesLookup } from './sent-messages.lookup';

/** How long a send waits for a lagging projection before answering UNAVAILABLE (the client retries with the same id). */
const CONFIRM_WAIT_MS = 5_000;

/**
 * A resend is caught by JetStream's duplicate window, or past it by the read model. Both
 * miss it when the projection lags the log by more than the window: the original is no
 * longer in the window and not yet in the read model, so the resend appends a copy (the
 * projector refuses it as DUPLICATE, but the sender would be acked with the copy's seq).
 * This guard notices that lag, from stream timestamps (the NATS server's clock, not this
 * process's), and then confirms against the projection before answering.
 */
export class DuplicateWindowGuard {
  /** Per partition: until when (performance.now()) the projection cannot lag by half the window. */
  private readonly safeUntil = new Map<number, number>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly names: Names,
    private readonly watch: ProjectionWatch,
    private readonly sent: SentMessagesLookup,
    private readonly windowMs: number,
  ) {}

  /** Call before the read-model lookup: how far the projection had committed then. */
  projectedBefore(partition: number): number {
    return this.watch.reached(partition);
  }

  /**
   * `seq` is what JetStream holds under the send's msg id. Returns an older original of
   * (sender, clientMsgId) that the lookup before the append could not have seen, if any.
   */
  async olderOriginal(partition: number, seq: number, projectedBefore: number, senderId: string, clientMsgId: string): Promise<SentMessage | undefined> {
    if (projectedBefore >= seq - 1) return undefined; // the lookup saw everything before `seq`
    if (!(await this.mayLagPastWindow(partition, projectedBefore + 1, seq))) return undefined;
    if (!(await this.watch.waitFor(partition, seq - 1, CONFIRM_WAIT_MS))) {
      throw new ChatError('UNAVAILABLE', 'the projection is behind the log; retry with the same clientMsgId');
    }
    const found = await this.sent.find(senderId, clientMsgId);
    return found && found.seq < seq ? found : undefined;
  }

  /** Whether `oldest` (the first entry perhaps not projected) is older than half the window, as seen from `seq`. */
  private async mayLagPastWindow(partition: number, oldest: number, seq: number): Promise<boolean> {
    const now = performance.now();
    if ((this.safeUntil.get(partition) ?? 0) > now) return false;
    const stream = this.names.stream(partition);
    const entry = (at: number) => this.jsm.streams.getMessage(stream, { seq: at }).catch(() => null);
    const [first, last] = await Promise.all([entry(oldest), entry(seq)]);
    // Unreadable (gone by retention, or NATS trouble): assume the worst and confirm.
    if (!first || !last) return true;
    const lag = last.time.getTime() - first.time.getTime();
    const margin = this.windowMs / 2 - lag;
    // The oldest unprojected entry ages at most as fast as time passes: safe for `margin` more.
    if (margin > 0) this.safeUntil.set(partition, now + margin);
    return margin <= 0;
  }
}
