import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

/** The sockets this gateway node holds, by user: where delivered events are emitted. */
@Injectable()
export class LocalConnections {
  private readonly byUser = new Map<string, Set<Socket>>();

  add(userId: string, socket: Socket): void {
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Set()));
    sockets.add(socket);
  }

  remove(userId: string, socket: Socket): void {
    const sockets = this.byUser.get(userId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.byUser.delete(userId);
  }

  of(userId: string): ReadonlySet<Socket> | undefined {
    return this.byUser.get(userId);
  }

  *entries(): Iterable<{ userId: string; connectionId: string }> {
    for (const [userId, sockets] of this.byUser) for (const s of sockets) yield { userId, connectionId: s.id };
  }

  get size(): number {
    let n = 0;
    for (const sockets of this.byUser.values()) n += sockets.size;
    return n;
  }
}
