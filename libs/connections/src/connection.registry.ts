import type { Redis } from 'ioredis';
import type { Names } from '@chat/messaging';

/** How long a registry entry lives without a heartbeat: a dead gateway's users age out. */
export const REGISTRY_TTL_S = 90;

/**
 * The connection registry in Redis: user -> { connectionId: nodeId }. Routing reads it to
 * publish each event once per gateway node that holds a recipient.
 */
export class ConnectionRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly names: Names,
  ) {}

  async register(userId: string, connectionId: string, nodeId: string): Promise<void> {
    const key = this.names.registryKey(userId);
    await this.redis.multi().hset(key, connectionId, nodeId).expire(key, REGISTRY_TTL_S).exec();
  }

  async unregister(userId: string, connectionId: string): Promise<void> {
    await this.redis.hdel(this.names.registryKey(userId), connectionId);
  }

  /**
   * Re-asserts every connection a node holds and extends its lease; called on the node's
   * heartbeat, so a registry that Redis lost (flush, restart) is whole again one beat later.
   */
  async refresh(connections: Iterable<{ userId: string; connectionId: string }>, nodeId: string): Promise<void> {
    const pipeline = this.redis.pipeline();
    let n = 0;
    for (const { userId, connectionId } of connections) {
      const key = this.names.registryKey(userId);
      pipeline.hset(key, connectionId, nodeId).expire(key, REGISTRY_TTL_S);
      n++;
    }
    if (n > 0) await pipeline.exec();
  }

  /** node id -> the given users it holds at least one connection of. */
  async nodesOf(userIds: string[]): Promise<Map<string, string[]>> {
    const byNode = new Map<string, string[]>();
    if (userIds.length === 0) return byNode;
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.hvals(this.names.registryKey(userId));
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([err, nodes], i) => {
      if (err) throw err;
      for (const node of new Set(nodes as string[])) {
        let users = byNode.get(node);
        if (!users) byNode.set(node, (users = []));
        users.push(userIds[i]!);
      }
    });
    return byNode;
  }
}
