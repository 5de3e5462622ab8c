import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { AckPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { lastValueFrom } from 'rxjs';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { deleteConsumer, JETSTREAM_SUBJECTS, resetProjectionConsumer, type Names, type ProjectionName } from '@chat/messaging';
import { CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOGGER, NAMES, NATS } from '@chat/platform';
import { CheckpointMovedError, ProjectionRepository, SearchProjectionRepository, SendsProjectedBeforeError } from '@chat/storage';
import { PartitionPump, type PumpBatch } from './partition.pump';
import { StaleBatchError } from './timeline.applier';

/** The pattern a projection's handler listens on: one call per committed-to-be batch. */
export const batchPattern = (projection: ProjectionName) => `${projection}.batch`;

/** What a projection's pumps need of its store: where each partition's checkpoint stands. */
interface Checkpoints {
  checkpoints(partitions: number[]): Promise<Map<number, number>>;
}

/**
 * A NestJS microservice transport over JetStream: for each projection (the timeline, the
 * search index), one durable consumer per partition of this process's own, started right
 * after that projection's checkpoint, feeding `@EventPattern('<projection>.batch')`.
 */
@Injectable()
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  /** This process's pumps by their consumer's name (the consumer leader advisories name it). */
  private readonly pumps = new Map<string, { partition: number; pump: PartitionPump }>();
  /** Names this process's consumers: a process started again, or a second one, gets consumers of its own. */
  private readonly instance = randomBytes(6).toString('hex');
  private advisories?: Subscription;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly names: Names,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly timeline: ProjectionRepository,
    private readonly search: SearchProjectionRepository,
  ) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      // CHAT_PROJECTOR_PARTITIONS splits the partitions between projector processes.
      const owned = this.config.CHAT_PROJECTOR_PARTITIONS;
      let commits = 0;
      const crashAt = this.config.CHAT_TEST_CRASH_AFTER_COMMITS;
      const afterCommit = crashAt === undefined ? undefined : () => {
        if (++commits < crashAt) return;
        // Synchronous: an asynchronous log line would die with the process.
        writeSync(2, `test hook: crashing between commit and ack after ${commits} commits\n`);
        process.kill(process.pid, 'SIGKILL');
      };
      this.followConsumerLeaders();
      await this.start('timeline', this.timeline, owned, afterCommit);
      await this.start('search', this.search, owned, undefined);
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(projection: ProjectionName, store: Checkpoints, owned: number[], afterCommit: (() => void) | undefined): Promise<void> {
    const handler = this.getHandlerByPattern(batchPattern(projection));
    if (!handler) throw new Error(`no handler for ${batchPattern(projection)}`);
    const from = await store.checkpoints(owned);
    for (const partition of owned) {
      // The one consumer all projector processes shared before each had its own: no process reads it now.
      await deleteConsumer(this.jsm, this.names.stream(partition), this.names.consumer(projection, partition));
      const pump = new PartitionPump({
        partition,
        afterSeq: from.get(partition) ?? 0,
        batchSize: this.config.CHAT_PROJECTOR_BATCH,
        // Which projection's pump a line is about: both read the same partitions.
        logger: this.log.child({ projection }),
        openConsumer: async (afterSeq) => {
          const durable = await resetProjectionConsumer(this.jsm, this.names, projection, partition, this.instance, afterSeq, {
            maxAckPending: this.config.CHAT_PROJECTOR_BATCH * 4,
            ackPolicy: AckPolicy.All,
            ackWaitMs: this.config.CHAT_PROJECTOR_ACK_WAIT,
          });
          return this.js.consumers.get(this.names.stream(partition), durable);
        },
        firstSeq: async () => (await this.jsm.streams.info(this.names.stream(partition))).state.first_seq,
        hasEntry: async (seq) => (await this.jsm.streams.getMessage(this.names.stream(partition), { seq })) !== null,
        ...(afterCommit && { afterCommit }),
        foldAgain: (err) => err instanceof StaleBatchError || err instanceof SendsProjectedBeforeError,
        resync: async (err) => (err instanceof CheckpointMovedError ? (await store.checkpoints([partition])).get(partition) : undefined),
        handle: async (batch: PumpBatch) => {
          await lastValueFrom(this.transformToObservable(await handler(batch)), { defaultValue: undefined });
        },
      });
      await pump.start();
      this.pumps.set(this.names.processConsumer(projection, partition, this.instance), { partition, pump });
    }
    this.log.info({ projection, partitions: owned.length, from: Object.fromEntries(from), instance: this.instance }, 'projector consuming');
  }

  /**
   * When one of this process's consumers gets a new leader (its NATS node cut off or gone),
   * the pull requests pending at the old leader are gone without a word, and the partition
   * would stand still until two heartbeats are missed (PULL_EXPIRES_MS, 30 s): its pump
   * pulls again at once instead. Advisories sent while this connection was away are lost,
   * but then nats.js pulls again itself when it reconnects.
   */
  private followConsumerLeaders(): void {
    this.advisories = this.nc.subscribe(JETSTREAM_SUBJECTS.consumerLeaderElectedAdvisories, {
      callback: (err, msg) => {
        if (err) return;
        const consumer = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
        void this.pumps.get(consumer)?.pump.repull('its consumer has a new leader');
      },
    });
  }

  async close(): Promise<void> {
    this.advisories?.unsubscribe();
    const pumps = [...this.pumps];
    await Promise.all(pumps.map(([, p]) => p.pump.stop()));
    // A consumer left behind costs the server until its idle threshold; a failed delete leaves it to that.
    await Promise.allSettled(pumps.map(([consumer, p]) => deleteConsumer(this.jsm, this.names.stream(p.partition), consumer)));
  }

  on(): never {
    throw new Error('JetStreamTransport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.js as T;
  }
}
