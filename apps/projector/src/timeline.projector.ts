import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { upcast, type ConversationState } from '@chat/domain';
import { HEADERS, type Names, type ProgressNotice } from '@chat/messaging';
import type { Config } from '@chat/config';
import { CONFIG, LOGGER, NAMES, NATS } from '@chat/platform';
import { ProjectionRepository } from '@chat/storage';
import { DeliveryRouter } from './delivery.router';
import { batchPattern } from './jetstream.transport';
import type { PumpBatch } from './partition.pump';
import { StateCache } from './state.cache';
import { projectBatch, type LoggedEvent } from './timeline.projection';

/** Builds the timeline, inbox and conversation read models, then delivers what it committed. */
@Controller()
export class TimelineProjector {
  private readonly states = new StateCache(20_000);

  constructor(
    private readonly repository: ProjectionRepository,
    private readonly router: DeliveryRouter,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly names: Names,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @EventPattern(batchPattern('timeline'))
  async onBatch(batch: PumpBatch): Promise<void> {
    const events = batch.messages.map((m) => this.read(m));
    const ids = [...new Set(events.map((e) => e.conversationId))];
    const missing = ids.filter((id) => !this.states.get(id));
    const loaded = await this.repository.loadConversations(missing);
    const states = new Map<string, ConversationState>(ids.map((id) => [id, this.states.get(id) ?? loaded.get(id)]));
    const sends = events.flatMap((e) => (e.event?.type === 'MessageSent' ? [{ senderId: e.event.senderId, clientMsgId: e.event.clientMsgId }] : []));
    const knownSends = await this.repository.knownClientMsgIds(sends);

    const changes = events.flatMap((e) => (e.event && 'targetSeq' in e.event ? [{ conversationId: e.conversationId, seq: e.event.targetSeq }] : []));
    const readers = events.flatMap((e) => (e.event?.type === 'ReadMarked' ? [{ conversationId: e.conversationId, userId: e.event.userId }] : []));
    const [targets, readMarkers] = await Promise.all([this.repository.loadMessages(changes), this.repository.loadReadMarkers(readers)]);

    const projected = projectBatch({
      partition: batch.partition, fromSeq: batch.fromSeq, events, states, knownSends, targets, readMarkers,
      fanoutMax: this.config.CHAT_PUSH_FANOUT_MAX,
    });
    try {
      await this.repository.commit(projected.writes);
    } catch (err) {
      for (const id of ids) this.states.delete(id);
      throw err;
    }
    for (const [id, state] of projected.states) this.states.set(id, state);
    for (const r of projected.writes.rejected) this.log.warn({ partition: batch.partition, ...r }, 'event rejected by the rules');

    const notice: ProgressNotice = { partition: batch.partition, seq: projected.writes.toSeq };
    this.nc.publish(this.names.progress('timeline'), JSON.stringify(notice));
    try {
      await this.router.route(projected.deliveries);
    } catch (err) {
      // Committed is committed: clients that miss a live event get it from sync.
      this.log.error({ partition: batch.partition, err: (err as Error).message }, 'live delivery failed');
    }
  }

  private read(m: JsMsg): LoggedEvent {
    let raw: unknown;
    try {
      raw = m.json();
    } catch {
      raw = undefined;
    }
    const origin = m.headers?.get(HEADERS.origin) || undefined;
    return { seq: m.seq, conversationId: this.names.conversationOf(m.subject), event: upcast(raw), ...(origin && { origin }) };
  }
}

