import type { Redis } from 'ioredis';
import type { ClientPayload, Typing } from '@chat/contracts';
import type { ConnectionRegistry } from '@chat/connections';
import { requireMember, type ConversationCache } from '@chat/commands';
import { ChatError } from '@chat/contracts';
import { mutedAt } from '@chat/domain';
import type { Names } from '@chat/messaging';
import { metrics } from '@chat/platform';
import type { SocketCaller } from './local-connections';
import type { NodeDelivery } from './node.delivery';

/** One `start` per user and conversation gets through in this window; the rest are dropped. */
export const TYPING_WINDOW_MS = 3_000;

/**
 * Typing: relayed over NATS core to the online members only, never stored. The window is
 * kept in Redis so that it holds across a user's devices on different gateways.
 */
export class TypingRelay {
  constructor(
    private readonly redis: Redis,
    private readonly names: Names,
    private readonly registry: ConnectionRegistry,
    private readonly conversations: ConversationCache,
    private readonly delivery: NodeDelivery,
    private readonly fanoutMax: number,
  ) {}

  async relay(caller: SocketCaller, p: ClientPayload<'typing'>): Promise<void> {
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    // Who may not send shows no typing either.
    if (p.state === 'start' && mutedAt(c.muted?.get(caller.userId), new Date().toISOString())) throw new ChatError('FORBIDDEN', 'you are muted in this conversation');
    if (p.state === 'start') {
      const first = await this.redis.set(this.names.typingKey(c.id, caller.userId), '1', 'PX', TYPING_WINDOW_MS, 'NX');
      if (first === null) {
        metrics.typingRelayed.inc({ result: 'dropped' });
        return;
      }
    } else {
      // A stop ends the window: the next start is news again.
      await this.redis.del(this.names.typingKey(c.id, caller.userId));
    }
    const event: Typing = { type: 'typing', conversationId: c.id, userId: caller.userId, state: p.state };
    metrics.typingRelayed.inc({ result: 'relayed' });
    if (c.members.size >= this.fanoutMax) {
      this.delivery.publishToRoom(c.id, event, caller.origin);
      return;
    }
    const others = [...c.members].filter((u) => u !== caller.userId);
    this.delivery.publishToNodes(await this.registry.nodesOf(others), event, caller.origin);
  }
}
