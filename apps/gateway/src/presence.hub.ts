import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Socket } from 'socket.io';
import type { Presence } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { ConnectionRegistry, Transition } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { metrics } from '@chat/platform';
import { dataOf, emitTo } from './local-connections';

/** How many users one connection may watch at once. */
const MAX_WATCHED = 2_000;

/**
 * Presence on a gateway: announces the transitions the registry reports, and relays the
 * transitions of watched users to the sockets watching them. The node subscribes to a
 * user's presence subject only while one of its sockets watches that user.
 */
export class PresenceHub {
  private readonly watched = new Map<string, { sub: Subscription; sockets: Set<Socket> }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly registry: ConnectionRegistry,
    /** Those of `others` whose presence `userId` may see: who share a conversation with it. */
    private readonly mayWatch: (userId: string, others: string[]) => Promise<Set<string>>,
  ) {}

  announce(userId: string, transition: Transition, at = new Date()): void {
    const presence: Presence = { userId, status: transition, ...(transition === 'offline' && { lastSeenAt: at.toISOString() }) };
    this.nc.publish(this.names.presence(userId), JSON.stringify(presence));
    metrics.presenceTransitions.inc({ status: transition });
  }

  /**
   * Watches those of `userIds` who share a conversation with the caller (and the caller
   * itself); the others are left out of the answer and never relayed, exactly as if they
   * had no presence: a stranger learns nothing of anyone's comings and goings.
   */
  async subscribe(socket: Socket, userIds: string[]): Promise<Presence[]> {
    const data = dataOf(socket);
    const { caller } = data;
    const watching = (data.watching ??= new Set());
    const asked = [...new Set(userIds)];
    if (watching.size + asked.filter((u) => !watching.has(u)).length > MAX_WATCHED) {
      throw new ChatError('PAYLOAD_TOO_LARGE', `a connection watches at most ${MAX_WATCHED} users`);
    }
    const others = asked.filter((u) => u !== caller.userId);
    const allowed = await this.mayWatch(caller.userId, others);
    const visible = asked.filter((u) => u === caller.userId || allowed.has(u));
    const fresh = visible.filter((u) => !watching.has(u));
    let subscribed = false;
    for (const userId of fresh) {
      watching.add(userId);
      let entry = this.watched.get(userId);
      if (!entry) {
        const sub = this.nc.subscribe(this.names.presence(userId), {
          callback: (err, msg) => {
            if (!err) this.relay(userId, msg.json<Presence>());
          },
        });
        this.watched.set(userId, (entry = { sub, sockets: new Set() }));
        subscribed = true;
      }
      entry.sockets.add(socket);
    }
    // Subscribed before reading the current state: no transition can fall between the two.
    if (subscribed) await this.nc.flush();
    return visible.length ? this.registry.presence(visible) : [];
  }

  unsubscribe(socket: Socket, userIds: Iterable<string>): void {
    const watching = dataOf(socket).watching;
    if (!watching) return;
    for (const userId of userIds) {
      if (!watching.delete(userId)) continue;
      const entry = this.watched.get(userId);
      entry?.sockets.delete(socket);
      if (entry && entry.sockets.size === 0) {
        entry.sub.unsubscribe();
        this.watched.delete(userId);
      }
    }
  }

  dropSocket(socket: Socket): void {
    const watching = dataOf(socket).watching;
    if (watching) this.unsubscribe(socket, [...watching]);
  }

  private relay(userId: string, presence: Presence): void {
    for (const socket of this.watched.get(userId)?.sockets ?? []) emitTo(socket, 'presence', presence);
  }
}
