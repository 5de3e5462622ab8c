import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Names, type ProgressNotice } from '@chat/messaging';
import { metrics, NAMES, NATS } from '@chat/platform';
import { batchPattern } from './jetstream.transport';
import type { PumpBatch } from './partition.pump';
import { RethrowFilter } from './rethrow.filter';
import { SearchApplier } from './search.applier';
import { readLogged } from './timeline.applier';

/** Keeps the full-text index of messages (deploy/projections/search.sql), behind the timeline. */
@Controller()
@UseFilters(RethrowFilter)
export class SearchProjector {
  constructor(
    private readonly applier: SearchApplier,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly names: Names,
  ) {}

  @EventPattern(batchPattern('search'))
  async onBatch(batch: PumpBatch): Promise<void> {
    const events = batch.messages.map((m) => readLogged(m, this.names));
    const writes = await this.applier.apply(batch.partition, batch.fromSeq, events);
    metrics.searchProjectionLag.set({ partition: String(batch.partition) }, batch.messages[batch.messages.length - 1]!.info.pending);
    // Read-your-writes of search: a gateway waits for this before it searches for a connection's own edit.
    const notice: ProgressNotice = { partition: batch.partition, seq: writes.toSeq };
    this.nc.publish(this.names.progress('search'), JSON.stringify(notice));
  }
}
