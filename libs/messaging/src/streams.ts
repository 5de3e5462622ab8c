import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Names, ProjectionName } from './names';

export interface LogSettings {
  replicas: number;
  duplicateWindowMs: number;
}

/**
 * Creates every partition stream that is missing and reads each one back: a server that
 * silently dropped a setting this code depends on stops the process here, not later.
 */
export async function ensureStreams(jsm: JetStreamManager, names: Names, settings: LogSettings): Promise<void> {
  for (const p of names.allPartitions()) {
    const name = names.stream(p);
    const wanted: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: names.streamSubjects(p),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: settings.replicas,
      duplicate_window: nanos(settings.duplicateWindowMs),
      // The projector checks that sequences are contiguous; a deleted message would be a gap.
      deny_delete: true,
    };
    let config: StreamConfig;
    try {
      config = (await jsm.streams.info(name)).config;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      config = (await jsm.streams.add(wanted)).config;
    }
    if (config.duplicate_window !== wanted.duplicate_window) {
      config = (await jsm.streams.update(name, { ...config, duplicate_window: wanted.duplicate_window })).config;
    }
    assertKept(`stream ${wanted.name}`, config, wanted);
  }
}

/**
 * How long a projector process's consumer lives on after the process stopped pulling (it
 * was killed, or cut off from NATS that long): then the server deletes it. A live pump
 * renews its pull at least every PULL_EXPIRES_MS, so this never takes a consumer in use.
 */
export const PROCESS_CONSUMER_IDLE_MS = 300_000;

/**
 * (Re)creates a projector process's own consumer of partition `p` so that it starts right
 * after the checkpoint. The checkpoint in Postgres is the truth; the consumer is only a
 * cursor, and recreating it means no delivery left pending by a crashed process waits out
 * its ack wait. Each process has its own (`Names.processConsumer`): two processes running
 * the same partitions (one of them stale, after a partition) each read every event, and
 * the checkpoint fence lets only one commit each batch.
 */
export async function resetProjectionConsumer(
  jsm: JetStreamManager,
  names: Names,
  projection: ProjectionName,
  p: number,
  instance: string,
  afterSeq: number,
  opts: ConsumerSettings,
): Promise<string> {
  const durable = names.processConsumer(projection, p, instance);
  return resetConsumer(jsm, names.stream(p), durable, afterSeq + 1, { ...opts, inactiveThresholdMs: PROCESS_CONSUMER_IDLE_MS });
}

/** Deletes a consumer; one that is not there is fine. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export interface ConsumerSettings {
  maxAckPending: number;
  ackPolicy: AckPolicy;
  ackWaitMs: number;
  /** The server deletes the consumer after this long without a pull (durable consumers keep it since nats-server 2.9). */
  inactiveThresholdMs?: number;
}

/**
 * Deletes durable consumer `durable` of `stream` (if there is one) and creates it again to
 * start at stream sequence `startSeq`, reading its settings back. JetStream cannot move a
 * consumer: this is how one is moved (a projection after its checkpoint, the webhooks to
 * where an operator replays them from).
 */
export async function resetConsumer(jsm: JetStreamManager, stream: string, durable: string, startSeq: number, opts: ConsumerSettings): Promise<string> {
  await deleteConsumer(jsm, stream, durable);
  const wanted: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: opts.ackPolicy,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
    max_ack_pending: opts.maxAckPending,
    ack_wait: nanos(opts.ackWaitMs),
    max_deliver: -1,
    ...(opts.inactiveThresholdMs !== undefined && { inactive_threshold: nanos(opts.inactiveThresholdMs) }),
  };
  const info = await jsm.consumers.add(stream, wanted);
  assertKept(`consumer ${durable}`, info.config, wanted);
  return durable;
}

function assertKept<T extends object>(what: string, actual: T, wanted: Partial<T>): void {
  for (const [key, value] of Object.entries(wanted)) {
    const have = (actual as Record<string, unknown>)[key];
    if (JSON.stringify(have) !== JSON.stringify(value)) {
      throw new Error(`nats: ${what}: the server did not keep ${key}=${JSON.stringify(value)} (has ${JSON.stringify(have)})`);
    }
  }
}

/** The stream or consumer asked for does not exist (nats.js's own error codes, not its messages). */
export function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound);
}

/**
 * How long a pull consumer's pull requests live (`consume({ expires })`); the server sends
 * heartbeats every half of it, and two missed make the client pull again. When a
 * consumer's leader moves (its NATS node cut off from the others), the pulls pending there
 * are gone and nothing says so: the client stands still until it misses two heartbeats.
 * 5 s made that about 5 s in the partition cases, but with it the 3-node kill test
 * (nats-cluster.fault-spec.ts) once saw its projectors stand still, silently, for over a
 * minute, and the benchmark saw 5 s delivery stalls (docs/benchmarks.md): back at the
 * library's default of 30 s, which that test has always passed with, until the cause is found.
 */
export const PULL_EXPIRES_MS = 30_000;
