import type { Redis } from 'ioredis';
import type { Presence } from '@chat/contracts';
import type { Names } from '@chat/messaging';
import { LEASE_DOWN, LEASE_UP } from './leases.lua';
import { RedisClock } from './redis.clock';

/** A connection's lease lasts this long unless its gateway renews it. */
export const LEASE_MS = 25_000;
/** Gateways renew their leases this often. */
export const HEARTBEAT_MS = 5_000;
/** Gateways look for expired leases this often: a dead gateway's users are offline within LEASE_MS + SWEEP_MS. */
export const SWEEP_MS = 1_000;
const LAST_SEEN_TTL_MS = 30 * 86_400_000;

/** One live connection as the registry knows it. */
export interface Lease {
  userId: string;
  connectionId: string;
}

export type Transition = 'online' | 'offline';

/** `node|epoch|connection`: node ids and connection ids never contain `|`. */
export const leaseMember = (nodeId: string, epoch: number, connectionId: string) => `${nodeId}|${epoch}|${connectionId}`;

type LeaseRedis = Redis & {
  leaseUp(k1: string, k2: string, k3: string, k4: string, member: string, now: number, until: number, userId: string): Promise<number>;
  leaseDown(k1: string, k2: string, k3: string, k4: string, member: string, now: number, userId: string, ttl: number): Promise<number>;
};

/**
 * The connection registry and presence, one structure in Redis: per user, a sorted set of
 * connection leases. Routing reads which nodes hold a user; presence is "has a live lease".
 * Nothing here is written to disk by the system (Redis runs without persistence here);
 * everything rebuilds from the gateways' heartbeats after a flush.
 */
export class ConnectionRegistry {
  private readonly redis: LeaseRedis;
  /** Every lease time is on Redis's clock, whatever this process's clock says. */
  private readonly clock: RedisClock;

  constructor(redis: Redis, private readonly names: Names) {
    redis.defineCommand('leaseUp', { numberOfKeys: 4, lua: LEASE_UP });
    redis.defineCommand('leaseDown', { numberOfKeys: 4, lua: LEASE_DOWN });
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

  async connect(userId: string, member: string, at?: number): Promise<Transition | undefined> {
    const now = at ?? (await this.clock.now());
    const up = await this.redis.leaseUp(...this.keys(userId), member, now, now + LEASE_MS, userId);
    return up === 1 ? 'online' : undefined;
  }

  async disconnect(userId: string, member: string, at?: number): Promise<Transition | undefined> {
    const now = at ?? (await this.clock.now());
    const down = await this.redis.leaseDown(...this.keys(userId), member, now, userId, LAST_SEEN_TTL_MS);
    return down === 1 ? 'offline' : undefined;
  }

  /**
   * Renews the leases of every connection a node holds. Also re-creates them after Redis
   * lost them (flush, restart): users it finds offline come online again, reported here.
   */
  async renew(leases: Iterable<Lease & { member: string }>, at?: number): Promise<Array<{ userId: string; transition: Transition }>> {
    const now = at ?? (await this.clock.now());
    const pipeline = this.redis.pipeline() as unknown as { leaseUp: LeaseRedis['leaseUp']; exec(): Promise<Array<[Error | null, unknown]> | null> };
    const users: string[] = [];
    for (const { userId, member } of leases) {
      void pipeline.leaseUp(...this.keys(userId), member, now, now + LEASE_MS, userId);
      users.push(userId);
    }
    if (users.length === 0) return [];
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, up], i) => (!err && up === 1 ? [{ userId: users[i]!, transition: 'online' as const }] : []));
  }

  /** Expires leases their nodes stopped renewing; returns the users that went offline. */
  async sweep(at?: number, limit = 1000): Promise<string[]> {
    const now = at ?? (await this.clock.now());
    const due = await this.redis.zrangebyscore(this.names.leaseIndexKey(), '-inf', now, 'LIMIT', 0, limit);
    const offline: string[] = [];
    for (const userId of due) {
      if ((await this.redis.leaseDown(...this.keys(userId), '', now, userId, LAST_SEEN_TTL_MS)) === 1) offline.push(userId);
    }
    return offline;
  }

  /** node id -> the given users it holds a live connection of, in its current epoch. */
  async nodesOf(userIds: string[], at?: number): Promise<Map<string, string[]>> {
    const now = at ?? (await this.clock.now());
    const byNode = new Map<string, string[]>();
    if (userIds.length === 0) return byNode;
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.zrangebyscore(this.names.leasesKey(userId), now, '+inf');
    const results = (await pipeline.exec()) ?? [];
    const epochs = await this.currentEpochs(results.flatMap(([, members]) => (members as string[]).map((m) => m.split('|')[0]!)));
    results.forEach(([err, members], i) => {
      if (err) throw err;
      const nodes = new Set<string>();
      for (const member of members as string[]) {
        const [node, epoch] = member.split('|');
        // A lease left by an earlier incarnation of a node that restarted is fenced.
        if (node && Number(epoch) === epochs.get(node)) nodes.add(node);
      }
      for (const node of nodes) {
        const users = byNode.get(node);
        if (users) users.push(userIds[i]!);
        else byNode.set(node, [userIds[i]!]);
      }
    });
    return byNode;
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
    if (userIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.zcount(this.names.leasesKey(userId), now, '+inf').get(this.names.lastSeenKey(userId));
    const results = (await pipeline.exec()) ?? [];
    return userIds.map((userId, i) => {
      const live = Number(results[2 * i]?.[1] ?? 0);
      const seen = results[2 * i + 1]?.[1] as string | null;
      if (live > 0) return { userId, status: 'online' as const };
      return { userId, status: 'offline' as const, ...(seen && { lastSeenAt: new Date(Number(seen)).toISOString() }) };
    });
  }

  private epochCache = new Map<string, { epoch: number; at: number }>();

  /** Current epochs of these nodes, cached for a second (an epoch changes only on restart). */
  private async currentEpochs(nodes: string[]): Promise<Map<string, number>> {
    const now = Date.now(); // a local cache age: this process's own clock is right for it
    const stale = [...new Set(nodes)].filter((n) => (this.epochCache.get(n)?.at ?? 0) < now - 1_000);
    if (stale.length) {
      const values = await this.redis.mget(...stale.map((n) => this.names.epochKey(n)));
      stale.forEach((n, i) => this.epochCache.set(n, { epoch: Number(values[i] ?? 0), at: now }));
    }
    return new Map([...new Set(nodes)].map((n) => [n, this.epochCache.get(n)!.epoch]));
  }

  private keys(userId: string): [string, string, string, string] {
    return [this.names.leasesKey(userId), this.names.presenceStateKey(userId), this.names.lastSeenKey(userId), this.names.leaseIndexKey()];
  }
}
