import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { DeliveryBatch, Names } from '@chat/messaging';
import type { ConversationCache } from './conversation.cache';
import type { LocalConnections } from './local-connections';

/**
 * Receives the events routed to this node and emits each to the sockets of its users,
 * in the order the projector committed them. The sending connection already has its ack.
 */
export class NodeDelivery {
  private sub?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly nodeId: string,
    private readonly local: LocalConnections,
    private readonly conversations: ConversationCache,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.names.nodeDelivery(this.nodeId), {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.deliver(msg.json<DeliveryBatch>());
        } catch (e) {
          this.log.error({ err: (e as Error).message }, 'undeliverable batch');
        }
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  private deliver(batch: DeliveryBatch): void {
    for (const { event, users, origin } of batch.items) {
      // Membership may have changed: the next command on this conversation reads it afresh.
      if (event.type === 'conversation') this.conversations.invalidate(event.conversationId);
      for (const userId of users) {
        for (const socket of this.local.of(userId) ?? []) {
          if (origin !== undefined && origin === `${this.nodeId}/${socket.id}`) continue;
          socket.emit(event.type, event);
        }
      }
    }
  }
}
