import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { isTracing, startSpanIn, type Names, type ProgressNotice } from '@chat/messaging';
import { LOGGER, metrics, NAMES, NATS } from '@chat/platform';
import { DeliveryRouter } from './delivery.router';
import { batchPattern } from './jetstream.transport';
import type { PumpBatch } from './partition.pump';
import { RethrowFilter } from './rethrow.filter';
import { readLogged, TimelineApplier } from './timeline.applier';
import type { LoggedEvent } from './timeline.projection';

/** Builds the timeline, inbox and conversation read models, then hands what it committed to live delivery. */
@Controller()
@UseFilters(RethrowFilter)
export class TimelineProjector {
  constructor(
    private readonly applier: TimelineApplier,
    private readonly router: DeliveryRouter,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly names: Names,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  @EventPattern(batchPattern('timeline'))
  async onBatch(batch: PumpBatch): Promise<void> {
    const timer = metrics.projectorBatchSeconds.startTimer();
    const events = batch.messages.map((m) => readLogged(m, this.names));
    const spans = isTracing() ? commitSpans(batch.partition, events) : undefined;
    const projected = await this.applier.apply(batch.partition, batch.fromSeq, events).finally(() => spans?.forEach((s) => s.end()));
    timer();
    metrics.projectorBatchSize.observe(events.length);
    metrics.projectedEvents.inc(events.length);
    // What the consumer still has to deliver after the batch's last event: the lag in events.
    metrics.projectionLag.set({ partition: String(batch.partition) }, batch.messages[batch.messages.length - 1]!.info.pending);
    for (const r of projected.writes.rejected) this.log.warn({ partition: batch.partition, ...r }, 'event rejected by the rules');

    const notice: ProgressNotice = { partition: batch.partition, seq: projected.writes.toSeq };
    this.nc.publish(this.names.progress('timeline'), JSON.stringify(notice));
    // Off the projection's path: the next batch does not wait for this one's delivery.
    this.router.enqueue(projected.deliveries);
  }
}

/** Each traced event's projection: its batch's fold and commit, in the event's trace. */
function commitSpans(partition: number, events: LoggedEvent[]) {
  return events.flatMap((e) => (e.trace ? [startSpanIn(e.trace, 'chat projector.commit', { 'chat.partition': partition, 'chat.seq': e.seq, 'chat.batch': events.length })] : []));
}
