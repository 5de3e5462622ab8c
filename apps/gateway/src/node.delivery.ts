import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { ConversationCache } from '@chat/commands';
import type { ChatEvent, Typing } from '@chat/contracts';
import { isTracing, startSpanIn, type DeliveryBatch, type Names, type RoomBatch } from '@chat/messaging';
import { metrics } from '@chat/platform';
import type { ReadModelRepository } from '@chat/storage';
import { emitDelivered, type LocalConnections } from './local-connections';

/** Events read back from the timeline for a room subscription that started late, at most. */
const CATCH_UP_LIMIT = 1_000;

type RoomItem = RoomBatch['items'][number];

interface Room {
  sub: Subscription;
  /** Each socket in the room, with the seq it joined at: the room's events up to it are not for it. */
  sockets: Map<Socket, number>;
  /** Resolves once the subscription is live at the server. */
  ready: Promise<void>;
  /** While the node reads back what its new subscription may have missed, the room's events wait here. */
  held?: RoomItem[];
}

/**
 * Live delivery on a gateway node. Events of small conversations arrive on the node's own
 * subject with the users they are for; events of large conversations arrive on the
 * conversation's room subject, which this node subscribes to only while one of its
 * sockets is a member there. Nothing is broadcast to nodes that hold nobody concerned.
 */
export class NodeDelivery {
  private readonly subs: Subscription[] = [];
  private readonly rooms = new Map<string, Room>();
  /** conversation -> items this node received for it (bounded), for the admin node view. */
  readonly received = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly nodeId: string,
    private readonly local: LocalConnections,
    private readonly conversations: ConversationCache,
    private readonly readModel: ReadModelRepository,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subs.push(
      this.nc.subscribe(this.names.nodeDelivery(this.nodeId), {
        callback: (err, msg) => {
          if (!err) this.guard(() => this.onNodeBatch(msg.json<DeliveryBatch>()));
        },
      }),
    );
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    for (const room of this.rooms.values()) room.sub.unsubscribe();
    this.rooms.clear();
  }

  roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * Puts sockets in a conversation's room, subscribing this node to it first if needed.
   * `joinedAt`: the seq of the event that made them members; when the subscription is
   * new, the room's events after it that were published before the subscription took
   * effect are read back from the timeline.
   */
  async joinRoom(conversationId: string, sockets: Iterable<Socket>, joinedAt?: number): Promise<void> {
    if (joinedAt === undefined || this.rooms.has(conversationId)) {
      await this.joinRooms([[conversationId, sockets]], joinedAt ?? 0);
      return;
    }
    const { room, live } = this.subscribe(conversationId, true);
    for (const s of sockets) room.sockets.set(s, joinedAt);
    try {
      await this.nc.flush();
    } finally {
      live();
    }
    await this.catchUp(conversationId, room, joinedAt);
  }

  /**
   * Puts sockets in the rooms of many conversations (the handshakes of a batch): every
   * missing subscription is made, then one flush makes them all live at the server before
   * anyone relies on them. A joiner of a room whose subscription is still on its way waits
   * for it too.
   */
  async joinRooms(joins: Iterable<[conversationId: string, sockets: Iterable<Socket>]>, joinedAt = 0): Promise<void> {
    const waits = new Set<Promise<void>>();
    const fresh: Array<() => void> = [];
    for (const [conversationId, sockets] of joins) {
      let room = this.rooms.get(conversationId);
      if (!room) {
        const made = this.subscribe(conversationId, false);
        room = made.room;
        fresh.push(made.live);
      }
      for (const s of sockets) room.sockets.set(s, joinedAt);
      waits.add(room.ready);
    }
    if (fresh.length) {
      try {
        await this.nc.flush();
      } finally {
        // A failed flush (NATS away) fails this join; others waiting on these rooms go on,
        // as a flush of their own would have failed the same way.
        for (const live of fresh) live();
      }
    }
    await Promise.all(waits);
  }

  private subscribe(conversationId: string, holding: boolean): { room: Room; live: () => void } {
    const sub = this.nc.subscribe(this.names.room(conversationId), {
      callback: (err, msg) => {
        if (!err) this.guard(() => this.onRoomBatch(conversationId, msg.json<RoomBatch>()));
      },
    });
    let live!: () => void;
    const ready = new Promise<void>((resolve) => (live = resolve));
    const room: Room = { sub, sockets: new Map(), ready, ...(holding && { held: [] }) };
    this.rooms.set(conversationId, room);
    return { room, live };
  }

  /** Takes sockets (or everyone) out of a room; the node unsubscribes when it is empty. */
  leaveRoom(conversationId: string, sockets?: Iterable<Socket>): void {
    const room = this.rooms.get(conversationId);
    if (!room) return;
    if (sockets) for (const s of sockets) room.sockets.delete(s);
    else room.sockets.clear();
    if (room.sockets.size === 0) {
      room.sub.unsubscribe();
      this.rooms.delete(conversationId);
    }
  }

  dropSocket(socket: Socket): void {
    for (const [id, room] of this.rooms) if (room.sockets.has(socket)) this.leaveRoom(id, [socket]);
  }

  /** Typing relayed from a gateway to the nodes of the online members. */
  publishToNodes(byNode: Map<string, string[]>, event: Typing, origin: string): void {
    for (const [node, users] of byNode) {
      const batch: DeliveryBatch = { items: [{ event, users, origin }] };
      this.nc.publish(this.names.nodeDelivery(node), JSON.stringify(batch));
    }
  }

  publishToRoom(conversationId: string, event: Typing, origin: string): void {
    const batch: RoomBatch = { items: [{ event, origin }] };
    this.nc.publish(this.names.room(conversationId), JSON.stringify(batch));
  }

  private onNodeBatch(batch: DeliveryBatch): void {
    for (const { event, users, origin, join, trace } of batch.items) {
      this.count(event.conversationId);
      const sockets = users.flatMap((u) => this.local.of(u) ?? []);
      if (event.type !== 'typing') {
        if (join) {
          this.joinRoom(event.conversationId, sockets, event.seq).catch((err: Error) => this.log.error({ conversationId: event.conversationId, err: err.message }, 'joining a room failed'));
        } else {
          // A committed event on the node path means the conversation is small (again):
          // its room, if this node had one, is over.
          this.leaveRoom(event.conversationId);
        }
        this.noteChange(event);
      }
      const span = trace !== undefined && isTracing() ? emitSpan(trace, event, sockets.length) : undefined;
      for (const socket of sockets) this.emit(socket, event, origin);
      span?.end();
    }
  }

  private onRoomBatch(conversationId: string, batch: RoomBatch): void {
    const room = this.rooms.get(conversationId);
    if (!room) return;
    if (room.held) {
      room.held.push(...batch.items);
      return;
    }
    for (const item of batch.items) this.emitInRoom(conversationId, room, item);
  }

  private emitInRoom(conversationId: string, room: Room, { event, origin, trace }: RoomItem): void {
    this.count(conversationId);
    if (event.type !== 'typing') this.noteChange(event);
    const span = trace !== undefined && isTracing() ? emitSpan(trace, event, room.sockets.size) : undefined;
    for (const [socket, joinedAt] of room.sockets) if (event.type === 'typing' || event.seq > joinedAt) this.emit(socket, event, origin);
    span?.end();
    // The removed saw their removal; nothing more of this room reaches them.
    if (event.type === 'conversation' && event.change === 'members_removed') {
      for (const userId of event.userIds) this.leaveRoom(conversationId, this.local.of(userId) ?? []);
    }
  }

  /**
   * A new subscription may have started after the room's next events were published:
   * those are committed (delivery follows the commit), so the timeline has them. They and
   * what arrived meanwhile go out once each, in seq order.
   */
  private async catchUp(conversationId: string, room: Room, joinedAt: number): Promise<void> {
    let missed: ChatEvent[] = [];
    try {
      missed = await this.readModel.timelineAfter(conversationId, joinedAt, CATCH_UP_LIMIT);
    } catch (err) {
      // Its clients catch up with sync when they reconnect.
      this.log.warn({ conversationId, err: (err as Error).message }, 'reading back a room\'s missed events failed');
    }
    const held = room.held ?? [];
    room.held = undefined;
    if (this.rooms.get(conversationId) !== room) return;
    const arrived = new Set(held.flatMap((i) => (i.event.type === 'typing' ? [] : [i.event.seq])));
    const items: RoomItem[] = [...missed.filter((e) => !arrived.has(e.seq)).map((event) => ({ event })), ...held];
    const seqOf = (i: RoomItem) => (i.event.type === 'typing' ? Number.POSITIVE_INFINITY : i.event.seq);
    items.sort((a, b) => seqOf(a) - seqOf(b));
    for (const item of items) this.emitInRoom(conversationId, room, item);
  }

  private emit(socket: Socket, event: ChatEvent | Typing, origin: string | undefined): void {
    if (origin !== undefined && origin === `${this.nodeId}/${socket.id}`) return;
    // Typing is for the others: the typer's own devices do not need it.
    if (event.type === 'typing' && (socket.data as { caller?: { userId: string } }).caller?.userId === event.userId) return;
    if (emitDelivered(socket, event) && event.type === 'message') {
      metrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(event.sentAt)) / 1000);
    }
  }

  private noteChange(event: ChatEvent): void {
    // Membership may have changed: the next command on this conversation reads it afresh.
    if (event.type === 'conversation') this.conversations.invalidate(event.conversationId);
  }

  private count(conversationId: string): void {
    this.received.set(conversationId, (this.received.get(conversationId) ?? 0) + 1);
    if (this.received.size > 10_000) this.received.delete(this.received.keys().next().value!);
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'undeliverable batch');
    }
  }
}

/** The live delivery of one event on this node, in its message's trace. */
function emitSpan(trace: string, event: ChatEvent | Typing, sockets: number) {
  return startSpanIn(trace, 'chat socket.emit', { 'chat.conversation_id': event.conversationId, 'chat.seq': event.type === 'typing' ? 0 : event.seq, 'chat.sockets': sockets });
}
