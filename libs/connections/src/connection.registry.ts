import type { Cluster, Redis } from 'ioredis';
import type { Presence } from '@chat/contracts';
import { LEASE_INDEX_SHARDS, type Names } from '@chat/messaging';
import { FEED_APPEND, INDEX_DROP_IF_DUE, LEASE_DOWN, LEASE_UP, LEASE_UP_MANY } from './leases.lua';
import { sendAll, slices, type Command } from './redis.batch';
import { RedisClock } from './redis.clock';

/** A standalone Redis or a Redis Cluster (CHAT_REDIS_CLUSTER=1): the registry works on both. */
export type RedisClient = Redis | Cluster;

/** A connection's lease lasts this long unless its gateway renews it. */
export const LEASE_MS = 25_000;
/** Gateways renew their leases this often. */
export const HEARTBEAT_MS = 5_000;
/** Gateways look for expired leases this often: a dead gateway's users are offline within LEASE_MS + SWEEP_MS. */
export const SWEEP_MS = 1_000;
const LAST_SEEN_TTL_MS = 30 * 86_400_000;
/**
 * Leases one heartbeat pipeline renews. All of a node's leases in one pipeline would keep
 * tens of thousands of ioredis commands alive across a round trip: V8 then moves them to
 * its old space, where they stay until a full collection, a few KiB of resident memory
 * per connection. Slices of this size are answered while they are still young.
 */
export const RENEW_BATCH = 100;
/**
 * Leases one LEASE_UP_MANY script writes: a script holds Redis while it runs, about a
 * millisecond for this many (each lease is a handful of sorted-set commands).
 */
const LEASES_PER_SCRIPT = 100;

/** One live connection as the registry knows it. */
export interface Lease {
  userId: string;
  connectionId: string;
}

export type Transition = 'online' | 'offline';

/** A lease written: the user just came 'online', or was online ('live'); or 'refused' at the cap. */
export type LeaseUp = 'online' | 'live' | 'refused';

/** One entry of the route feed: the users whose leases changed, numbered 1, 2, ... */
export interface RouteChange {
  id: string;
  n: number;
  users: string[];
}

/** Entries the route feed keeps; a reader further behind notices the gap and starts afresh. */
const FEED_MAX_ENTRIES = 100_000;

/** `node|epoch|connection`: node ids and connection ids never contain `|`. */
export const leaseMember = (nodeId: string, epoch: number, connectionId: string) => `${nodeId}|${epoch}|${connectionId}`;

type LeaseRedis = RedisClient & {
  leaseDown(k1: string, k2: string, k3: string, member: string, now: number, ttl: number): Promise<number>;
  indexDropIfDue(index: string, now: number, userId: string): Promise<number>;
  feedAppend(feed: string, counter: string, maxLen: number, users: string): Promise<number>;
};

/**
 * The connection registry and presence, one structure in Redis: per user, a sorted set of
 * connection leases. Routing reads which nodes hold a user; presence is "has a live lease".
 * Nothing here is written to disk by the system (Redis runs without persistence here);
 * everything rebuilds from the gateways' heartbeats after a flush.
 *
 * Redis Cluster: every script and command touches one slot (a user's keys share the hash
 * tag `{userId}`; the lease index is sharded and written by commands of its own). Leases
 * of many users go back to back (`sendAll`): one pipeline on a single Redis, one command
 * each on a cluster, where a pipeline would have to stay within one slot.
 *
 * Leases are written only by connect/connectMany, disconnect/disconnectMany, renew and
 * sweep (through leaseUp and the LEASE_DOWN script).
 */
export class ConnectionRegistry {
  private readonly redis: LeaseRedis;
  /** Every lease time is on Redis's clock, whatever this process's clock says. */
  private readonly clock: RedisClock;

  constructor(redis: RedisClient, private readonly names: Names) {
    redis.defineCommand('leaseUp', { numberOfKeys: 3, lua: LEASE_UP });
    // Its number of keys comes first among the arguments: two per lease.
    redis.defineCommand('leaseUpMany', { lua: LEASE_UP_MANY });
    redis.defineCommand('leaseDown', { numberOfKeys: 3, lua: LEASE_DOWN });
    redis.defineCommand('indexDropIfDue', { numberOfKeys: 1, lua: INDEX_DROP_IF_DUE });
    redis.defineCommand('feedAppend', { numberOfKeys: 2, lua: FEED_APPEND });
    this.redis = redis as LeaseRedis;
    this.clock = new RedisClock(redis);
  }

  /** A node's new incarnation: leases of its earlier epochs are no longer routed to. */
  async nextEpoch(nodeId: string): Promise<number> {
    return this.redis.incr(this.names.epochKey(nodeId));
  }

  /**
   * Puts a node's current epoch back if Redis lost it (flush, restart without data):
   * without it, routing reads epoch 0 and fences every lease of the node, so live delivery
   * to its users stops. SET NX: if the node restarted meanwhile, its newer epoch stays.
   */
  async keepEpoch(nodeId: string, epoch: number): Promise<void> {
    await this.redis.set(this.names.epochKey(nodeId), epoch, 'NX');
  }

  /** Registers one connection's lease, without a cap; see connectMany. */
  async connect(userId: string, member: string, at?: number): Promise<Transition | undefined> {
    const [up] = await this.connectMany([{ userId, member }], { at });
    if (up instanceof Error) throw up;
    return up === 'online' ? 'online' : undefined;
  }

  /**
   * Registers the leases of connections admitted together: one clock read, the lease
   * index then every lease script written back to back. With `cap`, a user that already
   * holds `cap` live leases gets none ('refused'), checked in the same script that adds
   * it. One outcome per lease, in order: an Error for a lease that could not be written.
   */
  async connectMany(leases: Array<{ userId: string; member: string }>, opts: { cap?: number; at?: number } = {}): Promise<Array<LeaseUp | Error>> {
    if (leases.length === 0) return [];
    const now = opts.at ?? (await this.clock.now());
    const ups = await this.leaseUp(leases, now, opts.cap ?? 0);
    await this.changed(leases.filter((_, i) => ups[i] === 'online' || ups[i] === 'live').map((l) => l.userId));
    return ups;
  }

  async disconnect(userId: string, member: string, at?: number): Promise<Transition | undefined> {
    const [down] = await this.disconnectMany([{ userId, member }], at);
    if (down instanceof Error) throw down;
    return down;
  }

  /**
   * Releases the leases of connections that ended together: one clock read, every lease
   * script back to back, then the index entries of users that keep other leases. One
   * outcome per lease: 'offline' for a user whose last lease this was, an Error for a
   * lease that could not be released (it expires by itself; the sweep reports it).
   */
  async disconnectMany(leases: Array<{ userId: string; member: string }>, at?: number): Promise<Array<Transition | undefined | Error>> {
    if (leases.length === 0) return [];
    const now = at ?? (await this.clock.now());
    const downs = await sendAll(this.redis, leases.map(({ userId, member }) => ['leaseDown', ...this.keys(userId), member, now, LAST_SEEN_TTL_MS]));
    // Leases remain: let the sweeper look when the latest of them runs out. A racing
    // connect may be lowered here; the sweeper finds its lease live and raises it again.
    // A user's last script in the batch says what it keeps.
    const latest = new Map<string, unknown>();
    downs.forEach((down, i) => latest.set(leases[i]!.userId, down));
    const remaining = new Map<number, Array<[string, number]>>();
    for (const [userId, down] of latest) {
      if (typeof down !== 'number' || down <= 0) continue;
      const shard = this.names.leaseIndexShard(userId);
      remaining.set(shard, [...(remaining.get(shard) ?? []), [userId, down]]);
    }
    const lowered = [...remaining];
    const indexed = await sendAll(this.redis, lowered.map(([shard, users]) => ['zadd', this.names.leaseIndexKey(shard), 'LT', ...[...users].flatMap(([u, until]) => [until, u])]));
    const failedShards = new Map(lowered.flatMap(([shard], i) => (indexed[i] instanceof Error ? [[shard, indexed[i] as Error]] : [])));
    await this.changed(leases.filter((_, i) => !(downs[i] instanceof Error)).map((l) => l.userId));
    return downs.map((down, i) => {
      if (down instanceof Error) return down;
      const failed = failedShards.get(this.names.leaseIndexShard(leases[i]!.userId));
      if (failed && typeof down === 'number' && down > 0) return failed;
      return down === -1 ? 'offline' : undefined;
    });
  }

  /**
   * Renews the leases of every connection a node holds. Also re-creates them after Redis
   * lost them (flush, restart): users it finds offline come online again, reported here.
   * Leases that could not be renewed are tried again at the next heartbeat, well within
   * LEASE_MS; only when none could be is it an error.
   *
   * `leases` is read RENEW_BATCH at a time, each slice written and answered before the
   * next is read: a generator over the node's sockets then never copies all of them.
   */
  async renew(leases: Iterable<Lease & { member: string }>, at?: number): Promise<Array<{ userId: string; transition: Transition }>> {
    let now = at;
    let renewed = 0;
    let failed: Error | undefined;
    const back: Array<{ userId: string; transition: Transition }> = [];
    for (const slice of slices(leases, RENEW_BATCH)) {
      now ??= await this.clock.now();
      const ups = await this.leaseUp(slice, now, 0);
      ups.forEach((up, i) => {
        if (up instanceof Error) {
          failed ??= up;
          return;
        }
        renewed++;
        if (up === 'online') back.push({ userId: slice[i]!.userId, transition: 'online' });
      });
    }
    if (failed && renewed === 0) throw failed;
    // Re-created leases (Redis lost them): the route feed's readers look these users up again.
    await this.changed(back.map((b) => b.userId));
    return back;
  }

  /** Expires leases their nodes stopped renewing; returns the users that went offline. */
  async sweep(at?: number, limit = 1000): Promise<string[]> {
    const now = at ?? (await this.clock.now());
    const perShard = Math.max(1, Math.ceil(limit / LEASE_INDEX_SHARDS));
    const offline = await Promise.all(
      Array.from({ length: LEASE_INDEX_SHARDS }, async (_, shard) => {
        const index = this.names.leaseIndexKey(shard);
        const due = await this.redis.zrangebyscore(index, '-inf', now, 'LIMIT', 0, perShard);
        const changed: string[] = [];
        const gone = await Promise.all(
          due.map(async (userId) => {
            const down = await this.redis.leaseDown(...this.keys(userId), '', now, LAST_SEEN_TTL_MS);
            if (down > 0) await this.redis.zadd(index, 'GT', down, userId);
            else await this.redis.indexDropIfDue(index, now, userId);
            // Expired leases were dropped (down > 0: others remain; -1: the last one went).
            if (down !== 0) changed.push(userId);
            return down === -1 ? [userId] : [];
          }),
        );
        await this.changed(changed);
        return gone.flat();
      }),
    );
    return offline.flat();
  }

  /** node id -> the given users it holds a live connection of, in its current epoch. */
  async nodesOf(userIds: string[], at?: number): Promise<Map<string, string[]>> {
    if (userIds.length === 0) return new Map();
    const leases = await this.leaseNodes(userIds, at);
    return byNode(leases, await this.currentEpochs([...leases.values()].flatMap((l) => l.map(([node]) => node))));
  }

  /** Each user's live leases as [node, epoch] pairs (not yet fenced by the nodes' current epochs). */
  async leaseNodes(userIds: string[], at?: number): Promise<Map<string, Array<[string, number]>>> {
    const now = at ?? (await this.clock.now());
    const results = await Promise.all(userIds.map((userId) => this.redis.zrangebyscore(this.names.leasesKey(userId), now, '+inf')));
    return new Map(userIds.map((userId, i) => [userId, results[i]!.map((member) => {
      const [node, epoch] = member.split('|');
      return [node!, Number(epoch)] as [string, number];
    })]));
  }

  /** The route feed after `afterId` (at most `count` entries) and its counter now. */
  async routeChanges(afterId: string, count: number): Promise<{ changes: RouteChange[]; counter: number }> {
    const [[readErr, read], [countErr, counter]] = (await this.redis
      .pipeline()
      .xread('COUNT', count, 'STREAMS', this.names.routeFeedKey(), afterId)
      .get(this.names.routeFeedCounterKey())
      .exec())! as [[Error | null, Array<[string, Array<[string, string[]]>]> | null], [Error | null, string | null]];
    if (readErr) throw readErr;
    if (countErr) throw countErr;
    const entries = read?.[0]?.[1] ?? [];
    return {
      counter: Number(counter ?? 0),
      changes: entries.map(([id, fields]) => {
        const f = fieldsOf(fields);
        return { id, n: Number(f.n), users: f.u ? f.u.split('\n') : [] };
      }),
    };
  }

  /** The newest entry of the route feed ('0-0' and 0 when it is empty). */
  async routeFeedEnd(): Promise<{ id: string; n: number }> {
    const [last] = await this.redis.xrevrange(this.names.routeFeedKey(), '+', '-', 'COUNT', 1);
    return last ? { id: last[0], n: Number(fieldsOf(last[1]).n) } : { id: '0-0', n: 0 };
  }

  /** A user's live connections: where each is held and until when its lease runs. */
  async leases(userId: string, at?: number): Promise<Array<{ connectionId: string; node: string; epoch: number; expiresAt: string }>> {
    const now = at ?? (await this.clock.now());
    const flat = await this.redis.zrangebyscore(this.names.leasesKey(userId), now, '+inf', 'WITHSCORES');
    const leases = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [node, epoch, connectionId] = flat[i]!.split('|');
      leases.push({ connectionId: connectionId!, node: node!, epoch: Number(epoch), expiresAt: new Date(Number(flat[i + 1])).toISOString() });
    }
    return leases;
  }

  /** How many live connections a user has, across every gateway. */
  async liveConnections(userId: string, at?: number): Promise<number> {
    const now = at ?? (await this.clock.now());
    return this.redis.zcount(this.names.leasesKey(userId), now, '+inf');
  }

  async presence(userIds: string[], at?: number): Promise<Presence[]> {
    const now = at ?? (await this.clock.now());
    return Promise.all(
      userIds.map(async (userId) => {
        const [live, seen] = await Promise.all([this.redis.zcount(this.names.leasesKey(userId), now, '+inf'), this.redis.get(this.names.lastSeenKey(userId))]);
        if (live > 0) return { userId, status: 'online' as const };
        return { userId, status: 'offline' as const, ...(seen && { lastSeenAt: new Date(Number(seen)).toISOString() }) };
      }),
    );
  }

  private epochCache = new Map<string, { epoch: number; at: number }>();

  /** Current epochs of these nodes, cached for a second (an epoch changes only on restart). */
  async currentEpochs(nodes: string[]): Promise<Map<string, number>> {
    const now = Date.now(); // a local cache age: this process's own clock is right for it
    const stale = [...new Set(nodes)].filter((n) => (this.epochCache.get(n)?.at ?? 0) < now - 1_000);
    if (stale.length) {
      // One GET per node, not MGET: the epoch keys of different nodes live in different slots.
      const values = await Promise.all(stale.map((n) => this.redis.get(this.names.epochKey(n))));
      stale.forEach((n, i) => this.epochCache.set(n, { epoch: Number(values[i] ?? 0), at: now }));
    }
    return new Map([...new Set(nodes)].map((n) => [n, this.epochCache.get(n)!.epoch]));
  }

  /**
   * Writes the lease index first, then the leases: a process that dies in between leaves
   * an index entry without a lease (the sweeper drops it), never a lease nobody sweeps.
   * So a lease whose index entry could not be written is not written either.
   */
  private async leaseUp(leases: Array<{ userId: string; member: string }>, now: number, cap: number): Promise<Array<LeaseUp | Error>> {
    // Every heartbeat passes here once per connection of the node: the arguments are built
    // in loops, the numbers turned to strings once, not once per lease by the client.
    const [nowArg, untilArg, capArg] = [now, now + LEASE_MS, cap].map(String) as [string, string, string];
    const byShard = new Map<number, Command>();
    for (const { userId } of leases) {
      const shard = this.names.leaseIndexShard(userId);
      let zadd = byShard.get(shard);
      if (!zadd) byShard.set(shard, (zadd = ['zadd', this.names.leaseIndexKey(shard), 'GT']));
      zadd.push(untilArg, userId);
    }
    const shards = [...byShard.keys()];
    const indexed = await sendAll(this.redis, [...byShard.values()]);
    const failedShards = new Map(shards.flatMap((shard, i) => (indexed[i] instanceof Error ? [[shard, indexed[i] as Error]] : [])));
    const outcomes: Array<LeaseUp | Error> = leases.map(({ userId }) => failedShards.get(this.names.leaseIndexShard(userId)) ?? 'live');
    const writable = leases.flatMap((lease, i) => (outcomes[i] instanceof Error ? [] : [i]));
    // A cluster takes one script per lease (each user's keys lie in a slot of their own);
    // one Redis takes them LEASES_PER_SCRIPT to a script.
    const groups = this.redis.isCluster ? writable.map((i) => [i]) : [...slices(writable, LEASES_PER_SCRIPT)];
    const replies = await sendAll(
      this.redis,
      groups.map((group): Command => {
        if (group.length === 1) {
          const { userId, member } = leases[group[0]!]!;
          return ['leaseUp', ...this.keys(userId), member, nowArg, untilArg, capArg];
        }
        const keys: string[] = [];
        const members: string[] = [];
        for (const i of group) {
          const { userId, member } = leases[i]!;
          keys.push(this.names.leasesKey(userId), this.names.presenceStateKey(userId));
          members.push(member);
        }
        return ['leaseUpMany', keys.length, ...keys, nowArg, untilArg, capArg, ...members];
      }),
    );
    groups.forEach((group, g) => {
      const reply = replies[g];
      group.forEach((i, j) => {
        const up = reply instanceof Error ? reply : group.length === 1 ? reply : (reply as unknown[])[j];
        outcomes[i] = up instanceof Error ? up : up === 1 ? 'online' : up === -1 ? 'refused' : 'live';
      });
    });
    return outcomes;
  }

  /** Tells the route feed's readers that these users' leases changed. */
  private async changed(userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.redis.feedAppend(this.names.routeFeedKey(), this.names.routeFeedCounterKey(), FEED_MAX_ENTRIES, [...new Set(userIds)].join('\n'));
  }

  private keys(userId: string): [string, string, string] {
    return [this.names.leasesKey(userId), this.names.presenceStateKey(userId), this.names.lastSeenKey(userId)];
  }
}

/**
 * Groups users by the nodes that hold their leases. A lease left by an earlier incarnation
 * of a node that restarted (an older epoch) is fenced.
 */
export function byNode(leases: ReadonlyMap<string, ReadonlyArray<readonly [string, number]>>, epochs: ReadonlyMap<string, number>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [userId, pairs] of leases) {
    const nodes = new Set<string>();
    for (const [node, epoch] of pairs) if (epoch === epochs.get(node)) nodes.add(node);
    for (const node of nodes) {
      const users = out.get(node);
      if (users) users.push(userId);
      else out.set(node, [userId]);
    }
  }
  return out;
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
