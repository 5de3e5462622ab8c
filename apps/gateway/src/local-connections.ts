import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { ChatEvent, ClientToServerEvents, ServerToClientEvents, Typing } from '@chat/contracts';
import { metrics } from '@chat/platform';
import type { Session } from '@chat/auth';
import type { Caller, ConnectionBuckets } from '@chat/commands';
import type { ConnectionWork } from './connection.work';
import type { OwnWrites } from './own.writes';

/** The gateway's sockets, typed by the contract's event maps: a payload cannot drift from it. */
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** A socket's caller: its session, the socket (live delivery skips it) and what its commands were acked with. */
export interface SocketCaller extends Caller, Session {
  origin: string;
  writes: OwnWrites;
}

/**
 * What the gateway keeps on each socket (socket.data). A gateway holds thousands of
 * mostly idle sockets: what only some of them use is made at its first use.
 */
export interface SocketData {
  caller: SocketCaller;
  /** The connection's lease in the registry (`node|epoch|connection`). */
  member: string;
  /** conversation -> last read marker this connection appended; from its first `read`. */
  readMarkers?: Map<string, number>;
  /** Users whose presence this connection watches; from its first `presence:subscribe`. */
  watching?: Set<string>;
  limits: ConnectionBuckets;
  /** Queries under way and the write buffer caps (connection.work.ts). */
  work: ConnectionWork;
  /** Events being handled: a draining gateway waits for them before closing the socket. */
  inFlight: number;
  /** The push registration this connection made when its token has no `did` (push:unregister removes it). */
  pushDeviceId?: string;
}

export const dataOf = (socket: Socket) => socket.data as SocketData;

/** Packets a socket may have waiting to be written before it counts as too slow. */
export const MAX_BUFFERED_PACKETS = 1_000;

/**
 * The sockets this gateway node holds, by user: where delivered events are emitted. An
 * array each, not a Set: a user has a handful of connections at most (one, mostly), and a
 * one-element array costs a third of a one-element Set on every user the node holds.
 */
@Injectable()
export class LocalConnections {
  private readonly byUser = new Map<string, Socket[]>();
  private count = 0;

  add(userId: string, socket: Socket): void {
    const sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, [socket]);
    else if (!sockets.includes(socket)) sockets.push(socket);
    else return;
    this.count++;
  }

  remove(userId: string, socket: Socket): void {
    const sockets = this.byUser.get(userId);
    const at = sockets?.indexOf(socket) ?? -1;
    if (at < 0) return;
    sockets!.splice(at, 1);
    this.count--;
    if (sockets!.length === 0) this.byUser.delete(userId);
  }

  of(userId: string): readonly Socket[] | undefined {
    return this.byUser.get(userId);
  }

  *sockets(): Iterable<Socket> {
    for (const sockets of this.byUser.values()) yield* sockets;
  }

  get size(): number {
    return this.count;
  }
}

/**
 * Closes the transport of a socket with over MAX_BUFFERED_PACKETS waiting to be written:
 * Engine.IO queues packets while the transport cannot write (the client is not reading).
 */
function closeTooFarBehind(socket: Socket): boolean {
  watchHardCap(socket);
  if (waiting(socket) <= MAX_BUFFERED_PACKETS) return false;
  dropSlowClient(socket);
  return true;
}

/**
 * Ends a slow client's transport at once, with what waits for it. Engine.IO's plain
 * close() first waits for its buffer to drain, which a client that does not read never
 * lets happen: the connection (its lease, its buffer) would stay until the heartbeat
 * gives up, 45 s later. ws likewise would wait for a close handshake the client does not
 * read. The client reconnects and catches up with sync.
 */
function dropSlowClient(socket: Socket): void {
  socket.conn.close(true);
  outgoing(socket).transport?.socket?.terminate?.();
  metrics.slowClients.inc();
}

/** What Engine.IO and ws expose of a connection's outgoing side (not in their typings). */
interface Outgoing {
  /** Packets Engine.IO holds while its transport cannot take them; replaced by a new array at each flush. */
  writeBuffer: Array<{ data?: unknown }>;
  /** The websocket transport's ws socket; polling has none. */
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
}

const outgoing = (socket: Socket) => socket.conn as unknown as Outgoing;
const waiting = (socket: Socket) => outgoing(socket).writeBuffer.length;

/** Bytes counted so far of a socket's current writeBuffer: each packet is measured once. */
const counted = new WeakMap<Socket, { buffer: unknown[]; packets: number; bytes: number }>();

/**
 * Bytes waiting to be written to a socket: packets Engine.IO holds, and what ws has been
 * handed but the kernel has not taken (its `bufferedAmount`). Amortised O(1): a buffer's
 * packets are measured once as they arrive, and a flush starts a new buffer.
 */
export function waitingBytes(socket: Socket): number {
  const out = outgoing(socket);
  const buffer = out.writeBuffer;
  let c = counted.get(socket);
  if (!c || c.buffer !== buffer || c.packets > buffer.length) counted.set(socket, (c = { buffer, packets: 0, bytes: 0 }));
  for (; c.packets < buffer.length; c.packets++) c.bytes += sizeOf(buffer[c.packets]?.data);
  return c.bytes + (out.transport?.socket?.bufferedAmount ?? 0);
}

const sizeOf = (data: unknown) => (typeof data === 'string' ? data.length : data instanceof Uint8Array ? data.byteLength : 0);

/**
 * A socket over the hard write buffer cap is checked again `graceMs` later; still over,
 * its transport is closed (the client reconnects and syncs), so a client that does not
 * read cannot hold more than about that much of this process's memory. Until then it is
 * written to as usual: a reading client on a slow link gets the time to catch up.
 * While the buffer is empty (the transport takes every packet) there is nothing to count.
 */
export function watchHardCap(socket: Socket): void {
  const work = dataOf(socket).work;
  if (!work || work.overHard || waiting(socket) === 0) return;
  if (waitingBytes(socket) <= work.settings.hardBytes) return;
  work.overHard = setTimeout(() => {
    work.overHard = undefined;
    if (!socket.connected || waitingBytes(socket) <= work.settings.hardBytes) return;
    dropSlowClient(socket);
  }, work.settings.graceMs);
  work.overHard.unref();
}

/** Acks waiting this long while the transport takes none of them: the client is not reading. */
export const DEAF_AFTER_MS = 2_000;
/** However recent the backlog, this many waiting packets is too many. */
export const MAX_WAITING_ACKS = 20 * MAX_BUFFERED_PACKETS;
const behindSince = new WeakMap<Socket, number>();

/**
 * Before every ack: a client that floods events without reading their acks would grow this
 * process's memory like a slow reader. A burst from a client that reads can put thousands
 * of acks in Engine.IO's buffer within one tick (they are written on the next), so the
 * transport is closed only when the backlog has not been flushed for DEAF_AFTER_MS, or
 * is over MAX_WAITING_ACKS.
 */
export function closedIfNotReadingAcks(socket: Socket, now = Date.now()): boolean {
  watchHardCap(socket);
  const backlog = waiting(socket);
  if (backlog <= MAX_BUFFERED_PACKETS) return false;
  const since = behindSince.get(socket);
  if (since === undefined) {
    behindSince.set(socket, now);
    // Engine.IO emits 'drain' each time it hands its buffer to the transport.
    socket.conn.once('drain', () => behindSince.delete(socket));
  }
  if (backlog <= MAX_WAITING_ACKS && now - (since ?? now) < DEAF_AFTER_MS) return false;
  dropSlowClient(socket);
  return true;
}

/**
 * Emits to one socket unless it is too far behind: a client that does not read would
 * otherwise grow this process's memory without bound. Closing its transport (not a
 * server "disconnect") makes the client reconnect, and its sync catches it up.
 */
export function emitTo<E extends keyof ServerToClientEvents>(socket: Socket, event: E, ...payload: Parameters<ServerToClientEvents[E]>): boolean {
  if (closeTooFarBehind(socket)) return false;
  (socket as ChatSocket).emit(event, ...payload);
  metrics.deliveries.inc({ type: event });
  return true;
}

/** What live delivery relays: each under the event name its `type` says. */
export type Delivered = ChatEvent | Typing;

// Holds `emitDelivered` to the contract: every delivered shape is the payload of the event its type names.
type NamedByType = { [D in Delivered as D['type']]: (event: D) => void };
const consistent: NamedByType extends Pick<ServerToClientEvents, Delivered['type']> ? true : never = true;
void consistent;

/** `emitTo` for a delivered event, whose `type` is its event name. */
export function emitDelivered(socket: Socket, event: Delivered): boolean {
  return emitTo(socket, event.type, event as never);
}
