import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { HttpAnswer } from '@chat/contracts';
import type { Names } from '@chat/messaging';
import { JETSTREAM_MANAGER, NAMES } from '@chat/platform';
import { PROJECTIONS, ReadModelRepository, SearchQueries, SEARCH, TIMELINE, type Projection } from '@chat/storage';
import { AdminGuard } from '@chat/platform';
import { RebuildService } from './rebuild.service';
import { pageQuery, parse } from './admin.routes';

/** `GET /v1/admin/projections` and `POST /v1/admin/projections/:name/rebuild`. */
@Controller('v1/admin/projections')
@UseGuards(AdminGuard)
export class ProjectionsController {
  constructor(
    private readonly rebuilds: RebuildService,
    private readonly readModel: ReadModelRepository,
    private readonly search: SearchQueries,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(NAMES) private readonly names: Names,
  ) {}

  @Get()
  async list(@Query() query: unknown): Promise<HttpAnswer<'projections'>> {
    // Two projections; the list takes the paging parameters every list takes.
    parse(pageQuery, query, 'query');
    const lastSeqs = await Promise.all(this.names.allPartitions().map(async (p) => (await this.jsm.streams.info(this.names.stream(p))).state.last_seq));
    const checkpoints = { [TIMELINE]: await this.readModel.checkpoints(), [SEARCH]: await this.search.checkpoints() };
    const projections = await Promise.all(
      PROJECTIONS.map(async (name) => {
        const partitions = await Promise.all(
          this.names.allPartitions().map(async (partition) => {
            const stream = this.names.stream(partition);
            const lastSeq = lastSeqs[partition]!;
            const checkpoint = checkpoints[name].get(partition) ?? 0;
            const lagEvents = Math.max(0, lastSeq - checkpoint);
            // How long the oldest event not yet projected has waited.
            const oldest = lagEvents > 0 ? await this.jsm.streams.getMessage(stream, { seq: checkpoint + 1 }).catch(() => null) : null;
            const lagSeconds = oldest ? Math.max(0, (Date.now() - oldest.time.getTime()) / 1000) : 0;
            return { partition, stream, lastSeq, checkpoint, lagEvents, lagSeconds };
          }),
        );
        const rebuild = this.rebuilds.status(name);
        return { name, partitions, ...(rebuild && { rebuild }) };
      }),
    );
    return { projections };
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  async rebuild(@Param('name') name: string): Promise<HttpAnswer<'rebuild'>> {
    if (!PROJECTIONS.includes(name as Projection)) throw new NotFoundException(`no projection named ${name}; there are: ${PROJECTIONS.join(', ')}`);
    return { rebuild: await this.rebuilds.start(name as Projection) };
  }
}
