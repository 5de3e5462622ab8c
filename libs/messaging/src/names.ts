import { ATTACHMENT_ID_PATTERN, isConversationId } from '@chat/domain';

/** Names a node id may take: one NATS subject token. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A process instance's id inside a consumer name (no `_`: it ends the name). */
const INSTANCE = /^[A-Za-z0-9]{1,32}$/;

/** Readers of the log with one durable consumer per partition: the projections, the notifier, the integrator webhooks. */
export type ProjectionName = 'timeline' | 'search' | 'notifier' | 'webhooks';

/**
 * The only place that builds a stream, subject, consumer, header or Redis key name. Every
 * name starts with the namespace, so deployments and test runs can share one NATS and
 * Redis without touching each other.
 */
export class Names {
  constructor(
    readonly namespace: string,
    readonly partitions: number,
  ) {}

  /** The JetStream stream of partition `p`: its sequence is the order of its conversations. */
  stream(p: number): string {
    return `${this.namespace}_P${this.checkPartition(p)}`;
  }

  streamSubjects(p: number): string[] {
    return [`${this.namespace}.p${this.checkPartition(p)}.conv.*`];
  }

  /** Whether a stream name is one of this namespace's partition streams. */
  ownsStream(stream: string): boolean {
    return stream.startsWith(`${this.namespace}_P`) && /^\d+$/.test(stream.slice(this.namespace.length + 2));
  }

  /** The stream a subject of this namespace's conversations goes to (undefined: none of them). */
  streamOfSubject(subject: string): string | undefined {
    const head = `${this.namespace}.p`;
    if (!subject.startsWith(head)) return undefined;
    const end = subject.indexOf('.conv.', head.length);
    if (end < 0) return undefined;
    const p = subject.slice(head.length, end);
    return /^\d+$/.test(p) ? `${this.namespace}_P${p}` : undefined;
  }

  /** The subject of one conversation's events. Throws on an id that could be a wildcard. */
  conversationSubject(p: number, conversationId: string): string {
    if (!isConversationId(conversationId)) throw new Error(`not a conversation id: ${JSON.stringify(conversationId)}`);
    return `${this.namespace}.p${this.checkPartition(p)}.conv.${conversationId}`;
  }

  /** The conversation id at the end of a conversation subject. */
  conversationOf(subject: string): string {
    return subject.slice(subject.lastIndexOf('.') + 1);
  }

  consumer(projection: ProjectionName, p: number): string {
    return `${this.namespace}_${projection}_p${this.checkPartition(p)}`;
  }

  /**
   * A projector process's own consumer of partition `p` (`<consumer>_<instance>`): each
   * process running a partition reads all of it, so two of them never split its events,
   * and the checkpoint decides whose commit counts.
   */
  processConsumer(projection: ProjectionName, p: number, instance: string): string {
    if (!INSTANCE.test(instance)) throw new Error(`not a process instance id: ${JSON.stringify(instance)}`);
    return `${this.consumer(projection, p)}_${instance}`;
  }

  /**
   * S3 key prefix of the cold tier's blocks (`<ns>/timeline/`), apart from the attachments':
   * the archiver's orphan sweep lists this prefix only, so it never sees an attachment.
   */
  blocksPrefix(): string {
    return `${this.namespace}/timeline/`;
  }

  /** S3 key prefix of every attachment object (`<ns>/attachments/`). */
  attachmentsPrefix(): string {
    return `${this.namespace}/attachments/`;
  }

  /** S3 key of one attachment: `<ns>/attachments/<conversationId>/<attachmentId>`. Throws on ids that could leave their segment. */
  attachmentKey(conversationId: string, attachmentId: string): string {
    if (!isConversationId(conversationId)) throw new Error(`not a conversation id: ${JSON.stringify(conversationId)}`);
    if (!ATTACHMENT_ID_PATTERN.test(attachmentId)) throw new Error(`not an attachment id: ${JSON.stringify(attachmentId)}`);
    return `${this.attachmentsPrefix()}${conversationId}/${attachmentId}`;
  }

  /** Core NATS subject on which one gateway node receives the events for its users. */
  nodeDelivery(nodeId: string): string {
    if (!NODE_ID.test(nodeId)) throw new Error(`not a node id: ${JSON.stringify(nodeId)}`);
    return `${this.namespace}.node.${nodeId}`;
  }

  /** Core NATS subject where a projection announces each committed checkpoint. */
  progress(projection: ProjectionName): string {
    return `${this.namespace}.progress.${projection}`;
  }

  /**
   * `Nats-Msg-Id` of a send: JetStream drops a repeat within its duplicate window. The
   * sender's length comes first: `:` is legal in both parts, and without it user `x`'s
   * `v:hi` and user `x:v`'s `hi` would be one id.
   */
  sendMsgId(senderId: string, clientMsgId: string): string {
    return `send:${senderId.length}:${senderId}:${clientMsgId}`;
  }

  /**
   * `Nats-Msg-Id` of a send appended again because JetStream called it a duplicate of an
   * entry that is another message (`staleSeq`): a window that outlived its entry.
   */
  sendAgainMsgId(senderId: string, clientMsgId: string, staleSeq: number): string {
    return `${this.sendMsgId(senderId, clientMsgId)}:again:${staleSeq}`;
  }

  /** `Nats-Msg-Id` of a creation, so two racing creates of one direct pair append once. */
  createMsgId(conversationId: string): string {
    return `create:${conversationId}`;
  }

  /** Core NATS subject of a large (pull) conversation: gateways with a member online subscribe. */
  room(conversationId: string): string {
    if (!isConversationId(conversationId)) throw new Error(`not a conversation id: ${JSON.stringify(conversationId)}`);
    return `${this.namespace}.room.${conversationId}`;
  }

  /**
   * Core NATS subject on which the admin API announces a block or an unblock
   * (`{ userId, blocked }`): every gateway closes a blocked user's sockets at once.
   */
  blocks(): string {
    return `${this.namespace}.blocks`;
  }

  /** Core NATS subject of one user's presence transitions. */
  presence(userId: string): string {
    return `${this.namespace}.presence.${subjectToken(userId)}`;
  }

  /**
   * Redis sorted set of one user's live connections: member `node|epoch|connection`,
   * score = lease expiry (ms). The braces keep a user's keys in one Redis Cluster slot.
   */
  leasesKey(userId: string): string {
    return `${this.namespace}:conn:{${userId}}`;
  }

  /** Redis string `online` while the user is online: a transition happens once. */
  presenceStateKey(userId: string): string {
    return `${this.namespace}:pstate:{${userId}}`;
  }

  /** Redis string: when the user was last seen (ms), kept for a while after it went offline. */
  lastSeenKey(userId: string): string {
    return `${this.namespace}:seen:{${userId}}`;
  }

  /**
   * Redis sorted set user -> latest lease expiry, one of LEASE_INDEX_SHARDS: where the
   * sweeper finds leases left by dead nodes. The index is never touched by the same script
   * as a user's keys (Redis Cluster: one slot per script); sharding it spreads the
   * heartbeats' writes over the cluster's nodes.
   */
  leaseIndexKey(shard: number): string {
    if (!Number.isInteger(shard) || shard < 0 || shard >= LEASE_INDEX_SHARDS) throw new Error(`not a lease index shard: ${shard}`);
    return `${this.namespace}:leases:{${this.namespace}:leases:${shard}}`;
  }

  /** The lease index shard that lists a user. */
  leaseIndexShard(userId: string): number {
    return fnv1a(userId) % LEASE_INDEX_SHARDS;
  }

  /**
   * Redis stream of the users whose leases changed (connect, disconnect, sweep, re-created
   * after a flush): routers and the notifier keep their in-memory view of the registry
   * current from it. Its counter (routeFeedCounterKey) numbers the entries, so a reader
   * notices entries it missed (trimmed, or Redis lost its data). One hash tag: one slot.
   */
  routeFeedKey(): string {
    return `${this.namespace}:routes:{${this.namespace}:routes}`;
  }

  routeFeedCounterKey(): string {
    return `${this.namespace}:routes:n:{${this.namespace}:routes}`;
  }

  /** Redis counter of a node's incarnations: leases of an older epoch are fenced. */
  epochKey(nodeId: string): string {
    return `${this.namespace}:epoch:${nodeId}`;
  }

  /** Redis key held for CHAT_PUSH_COALESCE after a user was woken: one wake-up per window. */
  pushCoalesceKey(userId: string): string {
    return `${this.namespace}:push:{${userId}}`;
  }

  /**
   * Redis hash partition -> what the webhook sender last reported of it (last error, last
   * delivery), for `GET /v1/admin/webhooks`. One hash tag: one slot.
   */
  webhookStatusKey(): string {
    return `${this.namespace}:webhooks:{${this.namespace}:webhooks}`;
  }

  /** Redis key that lets one `typing: start` per user and conversation through every 3 s. */
  typingKey(conversationId: string, userId: string): string {
    return `${this.namespace}:typing:${conversationId}:{${userId}}`;
  }

  /** Everything this namespace owns in Redis, for clean-up. */
  redisPattern(): string {
    return `${this.namespace}:*`;
  }

  /** Partition of a new conversation; recorded with it, so adding partitions later moves nothing. */
  partitionFor(conversationId: string): number {
    return fnv1a(conversationId) % this.partitions;
  }

  allPartitions(): number[] {
    return Array.from({ length: this.partitions }, (_, p) => p);
  }

  private checkPartition(p: number): number {
    if (!Number.isInteger(p) || p < 0) throw new Error(`not a partition: ${p}`);
    return p;
  }
}

/** Shards of the lease index (Names.leaseIndexKey). */
export const LEASE_INDEX_SHARDS = 16;

/** 32-bit FNV-1a: stable across processes and versions, so a partition never moves. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A user id as one subject token: characters outside [A-Za-z0-9_-] become ~XX (hex). */
export function subjectToken(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** NATS headers the system has set on events. */
export const HEADERS = {
  /** The connection that sent a command, on entries written before it moved into the payload (publish.ts). */
  origin: 'Chat-Origin',
} as const;

/**
 * JetStream's own subjects this system uses (not namespaced: the server names them).
 * `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.<stream>` is published when a stream gets a leader.
 */
export const JETSTREAM_SUBJECTS = {
  leaderElectedAdvisories: '$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.*',
  leaderElectedPrefix: '$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.',
  /** `...CONSUMER.LEADER_ELECTED.<stream>.<consumer>`: a consumer got a leader (pull requests at the old one are gone). */
  consumerLeaderElectedAdvisories: '$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.*.*',
  consumerLeaderElectedPrefix: '$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.',
  stepdown: (stream: string) => `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`,
} as const;
