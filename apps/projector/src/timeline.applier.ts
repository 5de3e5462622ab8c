import type { JsMsg } from '@nats-io/jetstream';
import { upcast, type ConversationState } from '@chat/domain';
import { HEADERS, type Names } from '@chat/messaging';
import { CheckpointMovedError, messageKey, type ProjectionRepository, type TieredMessages } from '@chat/storage';
import { StateCache } from './state.cache';
import { projectBatch, type LoggedEvent, type ProjectedBatch } from './timeline.projection';

/** One JetStream message as the projection reads it. */
export function readLogged(m: JsMsg, names: Names): LoggedEvent {
  let raw: unknown;
  try {
    raw = m.json();
  } catch {
    raw = undefined;
  }
  const origin = m.headers?.get(HEADERS.origin) || undefined;
  return { seq: m.seq, conversationId: names.conversationOf(m.subject), event: upcast(raw), ...(origin && { origin }) };
}

/**
 * Loads what a batch needs, folds it with `projectBatch` and commits it. The live
 * projector and a rebuild use the same applier, so a replay is the live path run again.
 */
export class TimelineApplier {
  private readonly states = new StateCache(20_000);

  constructor(
    private readonly repository: ProjectionRepository,
    private readonly fanoutMax: number,
    /** Where edits, deletes and reactions find targets that moved to the warm or cold tier. */
    private readonly tiered: TieredMessages,
  ) {}

  async apply(partition: number, fromSeq: number, events: LoggedEvent[]): Promise<ProjectedBatch> {
    const ids = [...new Set(events.map((e) => e.conversationId))];
    const missing = ids.filter((id) => !this.states.get(id));
    const sends = events.flatMap((e) => (e.event?.type === 'MessageSent' ? [{ senderId: e.event.senderId, clientMsgId: e.event.clientMsgId }] : []));
    const changes = events.flatMap((e) => (e.event && 'targetSeq' in e.event ? [{ conversationId: e.conversationId, seq: e.event.targetSeq }] : []));
    const readers = events.flatMap((e) => (e.event?.type === 'ReadMarked' ? [{ conversationId: e.conversationId, userId: e.event.userId }] : []));
    const [loaded, knownSends, targets, readMarkers] = await Promise.all([
      this.repository.loadConversations(missing),
      this.repository.knownClientMsgIds(sends),
      this.repository.loadMessages(changes),
      this.repository.loadReadMarkers(readers),
    ]);
    const archived = changes.filter((c) => !targets.has(messageKey(c.conversationId, c.seq)));
    for (const { conversationId, seq } of archived) {
      const found = (await this.tiered.at(conversationId, [seq])).get(seq);
      if (found) targets.set(messageKey(conversationId, seq), found);
    }
    const states = new Map<string, ConversationState>(ids.map((id) => [id, this.states.get(id) ?? loaded.get(id)]));
    const projected = projectBatch({ partition, fromSeq, events, states, knownSends, targets, readMarkers, fanoutMax: this.fanoutMax });
    try {
      await this.repository.commit(projected.writes);
    } catch (err) {
      // The cache may only hold committed state; after another writer (a rebuild's swap)
      // moved the checkpoint, none of it can be trusted.
      if (err instanceof CheckpointMovedError) this.states.clear();
      else for (const id of ids) this.states.delete(id);
      throw err;
    }
    for (const [id, state] of projected.states) this.states.set(id, state);
    return projected;
  }
}
