import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ConnectionRegistry } from '@chat/connections';
import type { DeliveryBatch, DeliveryItem, JoinRoom, Names, RoomBatch } from '@chat/messaging';
import type { Delivery } from './timeline.projection';

/** How long a node may take to put its users' sockets in a room before the event goes out anyway. */
const JOIN_TIMEOUT_MS = 2_000;

/**
 * Live delivery after a commit, in commit order. Small conversations: one message per
 * gateway node that holds a recipient (looked up in the registry), carrying that node's
 * users. Large conversations: one message on the conversation's room subject, relayed by
 * the nodes subscribed to it; before the room takes over (or new members arrive), the
 * nodes of the joining users are asked to subscribe and answer first, so the room's next
 * event cannot overtake their subscription.
 */
export class DeliveryRouter {
  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly registry: ConnectionRegistry,
    private readonly log: Logger,
  ) {}

  async route(deliveries: Delivery[]): Promise<void> {
    let run: Delivery[] = [];
    // Runs of push and room deliveries are published in turn, so that a conversation
    // switching between the two keeps its order.
    for (const d of deliveries) {
      if (run.length > 0 && (run[0]!.room !== d.room || d.joiners)) {
        await this.publish(run);
        run = [];
      }
      if (d.joiners) await this.join(d.event.conversationId, d.joiners);
      run.push(d);
    }
    if (run.length) await this.publish(run);
  }

  private async publish(run: Delivery[]): Promise<void> {
    if (run[0]!.room) {
      const perRoom = new Map<string, RoomBatch['items']>();
      for (const d of run) {
        const items = perRoom.get(d.event.conversationId) ?? [];
        items.push({ event: d.event, ...(d.origin !== undefined && { origin: d.origin }) });
        perRoom.set(d.event.conversationId, items);
      }
      for (const [conversationId, items] of perRoom) this.nc.publish(this.names.room(conversationId), JSON.stringify({ items } satisfies RoomBatch));
      return;
    }
    const nodesOfUser = await this.nodesOf([...new Set(run.flatMap((d) => d.recipients))]);
    const perNode = new Map<string, DeliveryItem[]>();
    for (const d of run) {
      const usersOnNode = new Map<string, string[]>();
      for (const user of d.recipients) {
        for (const node of nodesOfUser.get(user) ?? []) {
          const users = usersOnNode.get(node);
          if (users) users.push(user);
          else usersOnNode.set(node, [user]);
        }
      }
      for (const [node, users] of usersOnNode) {
        const items = perNode.get(node) ?? [];
        items.push({ event: d.event, users, ...(d.origin !== undefined && { origin: d.origin }) });
        perNode.set(node, items);
      }
    }
    for (const [node, items] of perNode) this.nc.publish(this.names.nodeDelivery(node), JSON.stringify({ items } satisfies DeliveryBatch));
  }

  private async join(conversationId: string, users: string[]): Promise<void> {
    const byNode = await this.registry.nodesOf(users);
    await Promise.all(
      [...byNode].map(async ([node, nodeUsers]) => {
        const request: JoinRoom = { conversationId, users: nodeUsers };
        try {
          await this.nc.request(this.names.nodeControl(node), JSON.stringify(request), { timeout: JOIN_TIMEOUT_MS });
        } catch (err) {
          // A node that died with its leases: its clients reconnect and sync.
          this.log.warn({ node, conversationId, err: (err as Error).message }, 'node did not join the room');
        }
      }),
    );
  }

  private async nodesOf(users: string[]): Promise<Map<string, string[]>> {
    const nodesOfUser = new Map<string, string[]>();
    for (const [node, nodeUsers] of await this.registry.nodesOf(users)) {
      for (const user of nodeUsers) nodesOfUser.set(user, [...(nodesOfUser.get(user) ?? []), node]);
    }
    return nodesOfUser;
  }
}
