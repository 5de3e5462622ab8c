import type { JsMsg } from '@nats-io/jetstream';
import type { Message } from '@chat/contracts';
import { upcast, type ConversationState } from '@chat/domain';
import { readLoggedPayload, type Names } from '@chat/messaging';
import { clientMsgKey, messageKey, readerKey, SendsProjectedBeforeError, type ProjectionRepository, type TieredMessages } from '@chat/storage';
import { Recent } from './recent';
import { projectBatch, targetOf, type LoggedEvent, type ProjectedBatch } from './timeline.projection';

/** One JetStream message as the projection reads it. */
export function readLogged(m: JsMsg, names: Names): LoggedEvent {
  const { raw, origin, trace } = readLoggedPayload(m);
  return { seq: m.seq, conversationId: names.conversationOf(m.subject), event: upcast(raw), ...(origin && { origin }), ...(trace && { trace }) };
}

/**
 * A batch that was folded on the result of an earlier batch of its partition that then
 * failed: it must be folded again from what is committed.
 */
export class StaleBatchError extends Error {
  constructor(partition: number) {
    super(`partition ${partition}: an earlier batch failed; this one is folded again`);
  }
}

/**
 * What the applier knows of one partition: the state its folds left, committed or about to
 * be. Every batch of the partition is folded after the one before it and committed after
 * it; a failure anywhere forgets everything not read from Postgres and fails the batches
 * folded on it (StaleBatchError).
 */
class Lane {
  generation = 0;
  folded: Promise<unknown> = Promise.resolve();
  committed: Promise<unknown> = Promise.resolve();
  readonly states: Recent<ConversationState>;
  readonly messages: Recent<Message>;
  readonly markers: Recent<number>;
  /** Sends the log holds copies of, learned from a commit that found them projected before. */
  readonly copies = new Recent<true>(10_000);

  constructor(capacity: number) {
    this.states = new Recent(capacity);
    this.messages = new Recent(capacity);
    this.markers = new Recent(capacity);
  }

  forget(): void {
    this.generation++;
    this.states.clear();
    this.messages.clear();
    this.markers.clear();
  }
}

/**
 * Loads what a batch needs, folds it with `projectBatch` and commits it, pipelined: the
 * next batch of a partition is folded from the state this one leaves while this one
 * commits. The live projector and a rebuild use the same applier, so a replay is the
 * live path run again.
 */
export class TimelineApplier {
  private readonly lanes = new Map<number, Lane>();
  /** Entries kept per partition; far more than two batches, so nothing uncommitted is ever evicted. */
  private readonly capacity: number;

  constructor(
    private readonly repository: ProjectionRepository,
    private readonly fanoutMax: number,
    /** Where edits, deletes and reactions find targets that moved to the warm or cold tier. */
    private readonly tiered: TieredMessages,
    batchSize = 500,
  ) {
    this.capacity = Math.max(20_000, 8 * batchSize);
  }

  /**
   * Folds the batch on the state the previous batch of the partition leaves, then commits
   * it after that one. Resolves once it is committed.
   */
  apply(partition: number, fromSeq: number, events: LoggedEvent[]): Promise<ProjectedBatch> {
    const lane = this.lane(partition);
    const generation = lane.generation;
    const folded = lane.folded.then(() => this.fold(lane, generation, partition, fromSeq, events));
    lane.folded = folded.catch(() => undefined);
    const committed = Promise.all([folded, lane.committed]).then(async ([projected]) => {
      if (lane.generation !== generation) throw new StaleBatchError(partition);
      try {
        await this.repository.commit(projected.writes);
      } catch (err) {
        if (err instanceof SendsProjectedBeforeError) for (const [sender, id] of err.pairs) lane.copies.set(clientMsgKey(sender, id), true);
        lane.forget();
        throw err;
      }
      return projected;
    });
    lane.committed = committed.catch(() => undefined);
    return committed;
  }

  private async fold(lane: Lane, generation: number, partition: number, fromSeq: number, events: LoggedEvent[]): Promise<ProjectedBatch> {
    if (lane.generation !== generation) throw new StaleBatchError(partition);
    try {
      const ids = [...new Set(events.map((e) => e.conversationId))];
      const changes = events.flatMap((e) => {
        const seq = e.event && targetOf(e.event);
        return seq !== undefined ? [{ conversationId: e.conversationId, seq }] : [];
      });
      const readers = events.flatMap((e) => (e.event?.type === 'ReadMarked' ? [{ conversationId: e.conversationId, userId: e.event.userId }] : []));
      const missingTargets = changes.filter((c) => !lane.messages.has(messageKey(c.conversationId, c.seq)));
      const missingReaders = readers.filter((r) => !lane.markers.has(readerKey(r.conversationId, r.userId)));
      const [loaded, targets, readMarkers] = await Promise.all([
        this.repository.loadConversations(ids.filter((id) => !lane.states.has(id))),
        this.repository.loadMessages(missingTargets),
        this.repository.loadReadMarkers(missingReaders),
      ]);
      for (const { conversationId, seq } of missingTargets.filter((c) => !targets.has(messageKey(c.conversationId, c.seq)))) {
        const found = (await this.tiered.at(conversationId, [seq])).get(seq);
        if (found) targets.set(messageKey(conversationId, seq), found);
      }
      if (lane.generation !== generation) throw new StaleBatchError(partition);
      for (const c of changes) {
        const known = lane.messages.get(messageKey(c.conversationId, c.seq));
        if (known) targets.set(messageKey(c.conversationId, c.seq), known);
      }
      for (const r of readers) {
        const known = lane.markers.get(readerKey(r.conversationId, r.userId));
        if (known !== undefined) readMarkers.set(readerKey(r.conversationId, r.userId), known);
      }
      const states = new Map<string, ConversationState>(ids.map((id) => [id, lane.states.has(id) ? lane.states.get(id) : loaded.get(id)]));
      const projected = projectBatch({ partition, fromSeq, events, states, knownSends: lane.copies.keySet(), targets, readMarkers, fanoutMax: this.fanoutMax });
      this.remember(lane, projected);
      return projected;
    } catch (err) {
      // The batches after this one assume it was folded.
      if (lane.generation === generation) lane.forget();
      throw err;
    }
  }

  /** What the batch leaves, as the next batch of the partition must see it. */
  private remember(lane: Lane, { writes, states }: ProjectedBatch): void {
    for (const [id, state] of states) lane.states.set(id, state);
    for (const row of writes.timeline) if (row.kind === 'message') lane.messages.set(messageKey(row.conversationId, row.seq), row.payload as Message);
    for (const u of writes.messageUpdates) lane.messages.set(messageKey(u.conversationId, u.seq), u.payload);
    // As commit_batch applies them: removed members lose their marker, then markers move forward.
    for (const d of writes.memberDeletes) lane.markers.set(readerKey(d.conversationId, d.userId), 0);
    for (const r of writes.readMarkers) {
      const key = readerKey(r.conversationId, r.userId);
      lane.markers.set(key, Math.max(lane.markers.get(key) ?? 0, r.seq));
    }
  }

  private lane(partition: number): Lane {
    let lane = this.lanes.get(partition);
    if (!lane) this.lanes.set(partition, (lane = new Lane(this.capacity)));
    return lane;
  }
}
