import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { rebuildProgressSchema } from '@chat/contracts';
import type { Names } from '@chat/messaging';
import {
  createPool,
  createProjectionTables,
  dropSchema,
  ProjectionRepository,
  ReadModelRepository,
  SEARCH,
  SearchProjectionRepository,
  swapLockOf,
  swapProjectionSchema,
  TieredMessages,
  TIMELINE,
  type BlobStore,
  type Projection,
} from '@chat/storage';
import { SearchApplier } from './search.applier';
import { readLogged, TimelineApplier } from './timeline.applier';
import type { LoggedEvent } from './timeline.projection';

/** Only one rebuild at a time, across every process of a deployment. */
const REBUILD_LOCK = 7243003;
/** Catch up until at most this many events are left, then swap (briefly pausing the live projector). */
const SWAP_WHEN_BEHIND = 2_000;

/** What the admin API shows of a rebuild (its schema is the answer's, in the contracts). */
export type RebuildProgress = z.infer<typeof rebuildProgressSchema>;
export type RebuildState = RebuildProgress['state'];

export class RebuildRunningError extends Error {
  constructor() {
    super('a rebuild is already running');
  }
}

export interface RebuildDeps {
  /** Which projection to rebuild (default: the timeline). */
  projection?: Projection;
  databaseUrl: string;
  /** A pool on the live projection (search_path = timeline). */
  pool: Pool;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: Names;
  fanoutMax: number;
  batchSize: number;
  blobs: BlobStore;
  log: Logger;
}

/** What a rebuild feeds the replayed batches to: the projection's own applier, on the fresh schema. */
interface Applier {
  apply(partition: number, fromSeq: number, events: LoggedEvent[]): Promise<unknown>;
}

/** How often a search rebuild looks at the timeline's checkpoints when it has caught up with them. */
const TIMELINE_POLL_MS = 50;

/**
 * Rebuilds a projection (the timeline, or the search index) from the log: replays every partition stream from its
 * first sequence with an ordered consumer into a fresh schema, through the same applier
 * as the live projector, catches up with what arrives meanwhile, then swaps the fresh
 * schema in atomically between two live batches. Live traffic keeps flowing throughout.
 */
export class ProjectionRebuild {
  private progress: RebuildProgress;
  private readonly projection: Projection;

  constructor(private readonly deps: RebuildDeps) {
    this.projection = deps.projection ?? TIMELINE;
    this.progress = { projection: this.projection, state: 'building', applied: 0, total: 0, eventsPerSecond: 0, startedAt: new Date().toISOString() };
  }

  get status(): RebuildProgress {
    return { ...this.progress };
  }

  async run(onProgress: (p: RebuildProgress) => void = () => undefined): Promise<RebuildProgress> {
    const { pool, names, log } = this.deps;
    const guard = await pool.connect();
    // Refused before anything starts: a rebuild already running is the one to watch, and
    // this attempt reports no progress of its own (it never was a rebuild).
    const locked = await guard.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [REBUILD_LOCK]).catch((err: Error) => {
      guard.release();
      throw err;
    });
    if (!locked.rows[0]!.ok) {
      guard.release();
      throw new RebuildRunningError();
    }
    const fresh = `${this.projection}_rebuild_${Date.now()}`;
    const readers: PartitionReplay[] = [];
    let freshPool: Pool | undefined;
    const started = Date.now();
    const report = (state: RebuildState) => {
      this.progress = { ...this.progress, state, eventsPerSecond: Math.round(this.progress.applied / Math.max(0.001, (Date.now() - started) / 1000)) };
      onProgress(this.status);
    };
    try {
      await guard.query('BEGIN');
      await createProjectionTables(guard, this.projection, fresh);
      await guard.query('COMMIT');
      // Commits into the fresh copy need not wait for the WAL flush: a crash before the
      // swap throws the copy away, and the swap's own commit (synchronous, on the live
      // pool) flushes the WAL up to it, everything replayed before included.
      freshPool = createPool(this.deps.databaseUrl, names.partitions + 1, fresh, { asyncCommit: true });
      const applier = await this.applierOn(freshPool);

      const ends = await this.streamEnds();
      this.progress.total = ends.reduce((sum, e) => sum + e, 0);
      report('building');
      for (const p of names.allPartitions()) {
        readers.push(
          new PartitionReplay(p, this.deps, applier, (n) => {
            this.progress.applied += n;
            report(this.progress.state);
          }),
        );
      }
      await Promise.all(readers.map((r, p) => r.replayTo(ends[p]!)));

      // Catch up with what arrived meanwhile until little is left.
      report('catching_up');
      for (let round = 0; round < 20; round++) {
        const now = await this.streamEnds();
        const behind = readers.reduce((sum, r, p) => sum + Math.max(0, now[p]! - r.position), 0);
        await Promise.all(readers.map((r, p) => r.replayTo(now[p]!)));
        if (behind <= SWAP_WHEN_BEHIND) break;
      }

      // Swap between two live batches: the live projector waits on the lock meanwhile,
      // then finds its checkpoint moved and continues from the swapped-in one.
      report('swapping');
      await guard.query('BEGIN');
      await guard.query('SELECT pg_advisory_xact_lock($1)', [swapLockOf(this.projection)]);
      const last = await this.streamEnds();
      await Promise.all(readers.map((r, p) => r.replayTo(last[p]!)));
      const retired = await swapProjectionSchema(guard, this.projection, fresh);
      await guard.query('COMMIT');
      if (retired) await dropSchema(pool, retired);
      this.progress.finishedAt = new Date().toISOString();
      report('done');
      log.info({ ...this.status }, 'projection rebuilt and swapped in');
      return this.status;
    } catch (err) {
      await guard.query('ROLLBACK').catch(() => undefined);
      await dropSchema(pool, fresh).catch(() => undefined);
      this.progress.error = (err as Error).message;
      this.progress.finishedAt = new Date().toISOString();
      report('failed');
      throw err;
    } finally {
      await Promise.all(readers.map((r) => r.close()));
      await freshPool?.end();
      await guard.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK]).catch(() => undefined);
      guard.release();
    }
  }

  private async applierOn(freshPool: Pool): Promise<Applier> {
    const partitions = this.deps.names.allPartitions();
    if (this.projection === SEARCH) {
      const repository = new SearchProjectionRepository(freshPool, { takesSwapLock: false });
      await repository.checkpoints(partitions);
      // The index follows the live timeline's verdicts: a batch past the timeline's
      // checkpoint (the end of the log, while traffic flows) waits for it.
      const timeline = new ReadModelRepository(this.deps.pool);
      const waitFor = async (partition: number, seq: number, timeoutMs: number) => {
        for (const deadline = Date.now() + timeoutMs; ; ) {
          if (((await timeline.checkpoints()).get(partition) ?? 0) >= seq) return true;
          if (Date.now() > deadline) return false;
          await new Promise((resolve) => setTimeout(resolve, TIMELINE_POLL_MS));
        }
      };
      return new SearchApplier(repository, this.deps.pool, { waitFor });
    }
    const repository = new ProjectionRepository(freshPool, TIMELINE, { takesSwapLock: false });
    await repository.checkpoints(partitions);
    // The fresh schema has no archived tier yet: everything it replays is hot.
    return new TimelineApplier(repository, this.deps.fanoutMax, new TieredMessages(freshPool, this.deps.blobs), this.deps.batchSize);
  }

  private async streamEnds(): Promise<number[]> {
    return Promise.all(this.deps.names.allPartitions().map(async (p) => (await this.deps.jsm.streams.info(this.deps.names.stream(p))).state.last_seq));
  }
}

/** One partition read in order from its first sequence, applied in batches. */
class PartitionReplay {
  position = 0;
  private messages?: ConsumerMessages;
  private iterator?: AsyncIterator<JsMsg>;

  constructor(
    private readonly partition: number,
    private readonly deps: RebuildDeps,
    private readonly applier: Applier,
    private readonly onApplied: (n: number) => void,
  ) {}

  async replayTo(target: number): Promise<void> {
    if (this.position >= target) return;
    if (!this.iterator) {
      const consumer = await this.deps.js.consumers.get(this.deps.names.stream(this.partition), { deliver_policy: DeliverPolicy.All });
      this.messages = await consumer.consume({ max_messages: this.deps.batchSize * 2 });
      this.iterator = this.messages[Symbol.asyncIterator]();
    }
    // Two batches at once, as the live projector does: one commits while the next is folded.
    const inFlight: Array<Promise<void>> = [];
    let batch: JsMsg[] = [];
    const flush = async () => {
      const events = batch.map((m) => readLogged(m, this.deps.names));
      const done = this.applier.apply(this.partition, this.position, events).then(() => this.onApplied(events.length));
      done.catch(() => undefined); // awaited below, in order
      inFlight.push(done);
      this.position = batch[batch.length - 1]!.seq;
      batch = [];
      if (inFlight.length >= 2) await inFlight.shift();
    };
    try {
      for (;;) {
        const reached = batch.length ? batch[batch.length - 1]!.seq : this.position;
        if (reached >= target) {
          if (batch.length) await flush();
          return;
        }
        const next = await this.iterator.next();
        if (next.done) throw new Error(`partition ${this.partition}: the log ended before seq ${target}`);
        batch.push(next.value);
        if (batch.length >= this.deps.batchSize || next.value.info.pending === 0) await flush();
      }
    } finally {
      for (const done of inFlight) await done;
    }
  }

  async close(): Promise<void> {
    // close() would wait for the iterator to be read to its end; stop() ends the pull now.
    this.messages?.stop();
    await this.iterator?.return?.();
  }
}
