import type { Pool } from 'pg';
import type { ProjectionWatch } from '@chat/messaging';
import { timelineVerdicts, type SearchProjectionRepository, type SearchWrites } from '@chat/storage';
import { StaleBatchError } from './timeline.applier';
import { foldSearchBatch, sendsOf } from './search.projection';
import type { LoggedEvent } from './timeline.projection';

/** How long a search batch waits for the timeline to have committed its events. */
const TIMELINE_WAIT_MS = 30_000;

export class TimelineBehindError extends Error {
  constructor(partition: number, seq: number) {
    super(`partition ${partition}: the timeline has not committed seq ${seq} yet; the search batch waits for its verdicts`);
  }
}

/**
 * Indexes a batch once the timeline has committed it: the timeline's verdicts say which
 * of its sends, edits and deletes the rules accepted. Folding needs nothing from earlier
 * batches, so batches of a partition are folded at once and only their commits go in
 * order; a failed commit fails the ones after it (StaleBatchError: handed over again).
 */
export class SearchApplier {
  private readonly lanes = new Map<number, { generation: number; committed: Promise<unknown> }>();

  constructor(
    private readonly repository: SearchProjectionRepository,
    /** The timeline's read model (search_path = timeline), where its verdicts are. */
    private readonly timeline: Pool,
    private readonly timelineWatch: Pick<ProjectionWatch, 'waitFor'>,
  ) {}

  apply(partition: number, fromSeq: number, events: LoggedEvent[]): Promise<SearchWrites> {
    let lane = this.lanes.get(partition);
    if (!lane) this.lanes.set(partition, (lane = { generation: 0, committed: Promise.resolve() }));
    const generation = lane.generation;
    const folded = this.fold(partition, fromSeq, events);
    folded.catch(() => undefined); // awaited below, in order
    const before = lane.committed;
    const committed = before.then(async () => {
      if (lane.generation !== generation) throw new StaleBatchError(partition);
      try {
        const writes = await folded;
        await this.repository.commit(writes);
        return writes;
      } catch (err) {
        lane.generation++;
        throw err;
      }
    });
    lane.committed = committed.catch(() => undefined);
    return committed;
  }

  private async fold(partition: number, fromSeq: number, events: LoggedEvent[]): Promise<SearchWrites> {
    const toSeq = events.length ? events[events.length - 1]!.seq : fromSeq;
    if (!(await this.timelineWatch.waitFor(partition, toSeq, TIMELINE_WAIT_MS))) throw new TimelineBehindError(partition, toSeq);
    const verdicts = await timelineVerdicts(this.timeline, partition, { fromSeq, toSeq }, sendsOf(events));
    return foldSearchBatch(partition, fromSeq, events, verdicts);
  }
}
