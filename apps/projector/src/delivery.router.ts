import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { RouteTable } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { metrics } from '@chat/platform';
import { DeliveryPayloads, type Outgoing } from './delivery.payloads';
import type { Delivery } from './timeline.projection';

/** How long a round of deliveries is retried while Redis is unreachable before it is given up (clients then catch up by sync). */
const RETRY_FOR_MS = 5_000;

/**
 * Live delivery of committed events, off the projection's path: the projector hands each
 * committed batch over and goes on; rounds of whatever has been handed over go out in
 * commit order. Small conversations: one message per gateway node that holds a
 * recipient (from the in-memory route table), carrying that node's users. Large
 * conversations: one message on the conversation's room subject, relayed by the nodes
 * subscribed to it. Users who must join a room (the conversation just became large, or
 * they were added to it) get that event on their node's subject marked `join`: the node
 * subscribes and reads from the timeline what its subscription may have missed, so no
 * request to the nodes holds delivery up.
 */
export class DeliveryRouter {
  private queue: Delivery[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly routes: RouteTable,
    private readonly log: Logger,
  ) {}

  /** Hands committed deliveries over, in commit order; returns at once. */
  enqueue(deliveries: Delivery[]): void {
    if (deliveries.length === 0) return;
    for (const d of deliveries) this.queue.push(d);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once everything handed over so far has gone out (shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const round = this.queue;
      this.queue = [];
      const deadline = Date.now() + RETRY_FOR_MS;
      for (let attempt = 1; ; attempt++) {
        try {
          // After the commit: a client that connected before it is in the table now.
          await this.routes.refresh();
          await this.publish(round);
          break;
        } catch (err) {
          if (Date.now() > deadline) {
            // Committed is committed: clients that miss a live event get it from sync.
            this.log.error({ events: round.length, err: (err as Error).message }, 'live delivery failed');
            metrics.deliveryFailures.inc(round.length);
            break;
          }
          await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1_000)));
        }
      }
    }
  }

  /**
   * Node messages and room messages are separate subjects; a conversation that moves from
   * one to the other keeps its order because whatever is pending on the other path for it
   * goes out first.
   */
  private async publish(round: Delivery[]): Promise<void> {
    const out = new DeliveryPayloads(this.nc.info?.max_payload ?? 1024 * 1024);
    const nodesOf = await this.routes.nodesOf(round.flatMap((d) => (d.room ? d.joiners ?? [] : d.recipients)));
    const nodesOfUser = new Map<string, string[]>();
    for (const [node, users] of nodesOf) for (const u of users) append(nodesOfUser, u, node);
    const perNode = (users: Iterable<string>) => {
      const byNode = new Map<string, string[]>();
      for (const user of users) for (const node of nodesOfUser.get(user) ?? []) append(byNode, node, user);
      return byNode;
    };
    for (const d of round) {
      const conversationId = d.event.conversationId;
      if (d.room) {
        if (d.joiners) {
          // The joiners' nodes get this event (and subscribe) after the room's earlier events and before its next one.
          if (out.rooms.conversations.has(conversationId)) this.send(out.rooms.take());
          out.addToNodes(d, perNode(d.joiners), true);
          this.send(out.nodes.take());
        } else if (out.nodes.conversations.has(conversationId)) {
          this.send(out.nodes.take());
        }
        out.addToRoom(d);
      } else {
        if (out.rooms.conversations.has(conversationId)) this.send(out.rooms.take());
        out.addToNodes(d, perNode(d.recipients), false);
      }
    }
    this.send(out.nodes.take());
    this.send(out.rooms.take());
  }

  private send(messages: Outgoing[]): void {
    for (const m of messages) this.nc.publish('node' in m ? this.names.nodeDelivery(m.node) : this.names.room(m.room), m.data);
  }
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
