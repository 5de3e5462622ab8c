import { performance } from 'node:perf_hooks';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { AckResults } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { ConversationEvent, MessageSent } from '@chat/domain';
import type { ReadModelRepository, SentMessage } from '@chat/storage';
import { appendEvent, type Appended, type LogPublisher, type Names, type ProjectionWatch } from '@chat/messaging';

/** How long a send waits for a lagging projection before answering UNAVAILABLE (the client retries with the same id). */
const CONFIRM_WAIT_MS = 5_000;
/** Lookups of originals start at most this often (see SharedLookup). */
const LOOKUP_INTERVAL_MS = 2;

type SendAck = AckResults['message:send'];

/**
 * The one owner of duplicate sends: a resend of a (sender, clientMsgId) answers with the
 * original's seq and `duplicate: true`, however long after.
 *
 * The send is appended at once, with a msg id that JetStream's duplicate window catches a
 * resend by; at the same time the read model (kept forever) is asked for an original, in
 * a lookup shared with the other sends of the moment (SharedLookup), so no round trip comes before the
 * publish. A resend past the window is appended again all the same: that copy is refused
 * by the projector at its place in the log, and the answer is the original's.
 *
 * Both miss a resend when the projection lags the log by more than the window: the
 * original is no longer in the window and not yet in the read model. That lag is noticed
 * from stream timestamps (the NATS server's clock, not this process's), and then the
 * answer waits for the projection to reach the send and looks again.
 */
export class SendDeduplicator {
  /** Per partition: until when (performance.now()) the projection cannot lag by half the window. */
  private readonly safeUntil = new Map<number, number>();
  private readonly lookup: SharedLookup;

  constructor(
    private readonly log: LogPublisher,
    private readonly jsm: JetStreamManager,
    private readonly names: Names,
    private readonly watch: ProjectionWatch,
    readModel: ReadModelRepository,
    private readonly windowMs: number,
  ) {
    this.lookup = new SharedLookup(readModel);
  }

  async send(partition: number, event: MessageSent, origin?: string): Promise<SendAck> {
    const { senderId, clientMsgId, conversationId } = event;
    const projectedBefore = this.watch.reached(partition);
    const [original, appended] = await Promise.all([
      this.lookup.find(senderId, clientMsgId),
      appendEvent(this.log, this.names, partition, event, { msgId: this.names.sendMsgId(senderId, clientMsgId), origin }),
    ]);
    // An original of another conversation is a reuse whatever its seq: seqs of different
    // partitions are not comparable (and the window, per stream, did not see it).
    if (original && (original.conversationId !== conversationId || original.seq < appended.seq || appended.duplicate)) return duplicateOf(original, conversationId);
    // The lookup saw everything projected before this entry. Past the window that may not
    // be all, and then the entry under this msg id (even one JetStream calls the original)
    // may itself be a late copy.
    if (!original && (await this.mayHaveMissed(partition, appended.seq, projectedBefore))) {
      if (!(await this.watch.waitFor(partition, appended.seq - 1, CONFIRM_WAIT_MS))) {
        throw new ChatError('UNAVAILABLE', 'the projection is behind the log; retry with the same clientMsgId');
      }
      const older = await this.lookup.find(senderId, clientMsgId);
      if (older && (older.conversationId !== conversationId || older.seq < appended.seq)) return duplicateOf(older, conversationId);
    }
    if (appended.duplicate) {
      const inLog = await this.originalInLog(partition, appended, event);
      return inLog ? duplicateOf(inLog, conversationId) : this.appendAgain(partition, event, origin, appended.seq);
    }
    return { seq: appended.seq, sentAt: event.at };
  }

  /**
   * JetStream's window caught a resend that may not be projected yet: the original is in
   * the log at the seq it names, unless that entry is another message (then undefined).
   */
  private async originalInLog(partition: number, appended: Appended, event: MessageSent): Promise<SentMessage | undefined> {
    const first = await this.jsm.streams.getMessage(this.names.stream(partition), { seq: appended.seq });
    const stored = first?.json<ConversationEvent>();
    if (stored?.type !== 'MessageSent' || stored.senderId !== event.senderId || stored.clientMsgId !== event.clientMsgId) return undefined;
    return { conversationId: stored.conversationId, seq: appended.seq, sentAt: stored.at };
  }

  /**
   * JetStream called the send a duplicate of an entry that holds another message: its
   * window remembered a msg id whose entry did not survive. Seen with nats-server 2.9.10
   * right after an asymmetric partition healed (test/partitions/nats-partitions): the
   * retried send was answered with the seq of the send before it, and was in the log
   * nowhere. Answering with that seq would ack a send the log does not hold.
   * The send is appended again under a msg id of its own for this, and answered once the
   * read model says which copy is the first (a copy elsewhere in the log would be the
   * original; the projector refuses the later one).
   */
  private async appendAgain(partition: number, event: MessageSent, origin: string | undefined, staleSeq: number): Promise<SendAck> {
    const { senderId, clientMsgId, conversationId } = event;
    const again = await appendEvent(this.log, this.names, partition, event, { msgId: this.names.sendAgainMsgId(senderId, clientMsgId, staleSeq), origin });
    if (!(await this.watch.waitFor(partition, again.seq, CONFIRM_WAIT_MS))) {
      throw new ChatError('UNAVAILABLE', 'the projection is behind the log; retry with the same clientMsgId');
    }
    const first = await this.lookup.find(senderId, clientMsgId);
    if (!first) throw new ChatError('UNAVAILABLE', 'the send is not in the read model yet; retry with the same clientMsgId');
    return first.seq === again.seq && first.conversationId === conversationId ? { seq: first.seq, sentAt: first.sentAt } : duplicateOf(first, conversationId);
  }

  /**
   * Whether an original older than the window could be missing from the read model: some
   * entry before `seq` was not projected when the lookup ran, and the oldest of those may
   * be older than half the window.
   */
  private async mayHaveMissed(partition: number, seq: number, projectedBefore: number): Promise<boolean> {
    if (projectedBefore >= seq - 1) return false;
    const now = performance.now();
    if ((this.safeUntil.get(partition) ?? 0) > now) return false;
    const stream = this.names.stream(partition);
    const entry = (at: number) => this.jsm.streams.getMessage(stream, { seq: at }).catch(() => null);
    const [first, last] = await Promise.all([entry(projectedBefore + 1), entry(seq)]);
    // Unreadable (gone by retention, or NATS trouble): assume the worst and confirm.
    if (!first || !last) return true;
    const margin = this.windowMs / 2 - (last.time.getTime() - first.time.getTime());
    // The oldest unprojected entry ages at most as fast as time passes: safe for `margin` more.
    if (margin > 0) this.safeUntil.set(partition, now + margin);
    return margin <= 0;
  }
}

function duplicateOf(original: SentMessage, conversationId: string): SendAck {
  if (original.conversationId !== conversationId) {
    throw new ChatError('BAD_REQUEST', 'clientMsgId: already used for a message in another conversation');
  }
  return { seq: original.seq, sentAt: original.sentAt, duplicate: true };
}

/**
 * Finds originals in the read model, in one query for the sends of a moment: one query at
 * a time, started at most every LOOKUP_INTERVAL_MS, so the sends that arrive meanwhile go
 * in the next (a query costs Postgres and this process a few hundred µs, however many
 * pairs it asks for). A lone send after a quiet spell is looked up at once; under load the
 * wait is shorter than the publish it runs beside.
 */
class SharedLookup {
  private waiting: Array<{ senderId: string; clientMsgId: string; resolve: (m: SentMessage | undefined) => void; reject: (e: unknown) => void }> = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly readModel: ReadModelRepository) {}

  find(senderId: string, clientMsgId: string): Promise<SentMessage | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ senderId, clientMsgId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    const wait = this.lastStart + LOOKUP_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      void this.next();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.next();
    }, wait);
  }

  private async next(): Promise<void> {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.running = true;
    this.lastStart = performance.now();
    try {
      const found = await this.readModel.sentMessages(batch);
      for (const b of batch) b.resolve(found.get(`${b.senderId}\n${b.clientMsgId}`));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running = false;
      if (this.waiting.length) this.schedule();
    }
  }
}
