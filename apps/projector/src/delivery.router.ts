import type { NatsConnection } from '@nats-io/nats-core';
import type { ConnectionRegistry } from '@chat/connections';
import type { DeliveryBatch, DeliveryItem, Names } from '@chat/messaging';
import type { Delivery } from './timeline.projection';

/**
 * Live delivery after a commit: one message per gateway node that holds at least one
 * recipient, carrying the batch's events in seq order and, for each, that node's users.
 * Nodes that hold nobody get nothing.
 */
export class DeliveryRouter {
  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly registry: ConnectionRegistry,
  ) {}

  async route(deliveries: Delivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    const everyone = [...new Set(deliveries.flatMap((d) => d.recipients))];
    const nodesOfUser = new Map<string, string[]>();
    for (const [node, users] of await this.registry.nodesOf(everyone)) {
      for (const user of users) {
        const nodes = nodesOfUser.get(user);
        if (nodes) nodes.push(node);
        else nodesOfUser.set(user, [node]);
      }
    }
    const perNode = new Map<string, DeliveryItem[]>();
    for (const d of deliveries) {
      const usersOnNode = new Map<string, string[]>();
      for (const user of d.recipients) {
        for (const node of nodesOfUser.get(user) ?? []) {
          const users = usersOnNode.get(node);
          if (users) users.push(user);
          else usersOnNode.set(node, [user]);
        }
      }
      for (const [node, users] of usersOnNode) {
        const item: DeliveryItem = { event: d.event, users, ...(d.origin !== undefined && { origin: d.origin }) };
        const items = perNode.get(node);
        if (items) items.push(item);
        else perNode.set(node, [item]);
      }
    }
    for (const [node, items] of perNode) {
      const batch: DeliveryBatch = { items };
      this.nc.publish(this.names.nodeDelivery(node), JSON.stringify(batch));
    }
    return perNode.size;
  }
}
