import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { TokenVerifier } from '@chat/auth';
import { RateLimits } from '@chat/commands';
import type { Config } from '@chat/config';
import { ConnectionRegistry, HEARTBEAT_MS, LEASE_MS, leaseMember, SWEEP_MS, type Lease, type Transition } from '@chat/connections';
import type { Pool } from 'pg';
import { CONFIG, LOGGER, metrics, NODE_ID, PG_POOL } from '@chat/platform';
import { PushRepository, ReadModelRepository, withPoolPatience } from '@chat/storage';
import { ActivityLog } from './activity.log';
import { BlockedUsers } from './blocked.users';
import { Batcher, type Outcome } from './batcher';
import { WorkLimits } from './connection.work';
import { dataOf, LocalConnections, type SocketData } from './local-connections';
import { NodeDelivery } from './node.delivery';
import { OwnWrites } from './own.writes';
import { PresenceHub } from './presence.hub';

/**
 * Sockets whose token expired are looked for this often: one sweep over all of them
 * instead of a timer (and a disconnect listener to clear it) on each socket. An event
 * that races the sweep is answered UNAUTHORIZED (chat.gateway.ts checks `exp`).
 */
export const EXPIRY_SWEEP_MS = 1_000;
/**
 * How long a handshake may wait for its turn before it is refused `unavailable`: within
 * Socket.IO clients' own 20 s connect timeout, even with a last pool wait (5 s) begun
 * just before it.
 */
export const ADMIT_DEADLINE_MS = 12_000;
/** Handshakes (or disconnects) one batch takes at most. */
const BATCH_MAX = 500;
/** Batches under way at once: one can wait on Postgres while the other writes to Redis. */
const BATCHES_IN_FLIGHT = 2;
/** Last activity is written this often (and on shutdown). */
export const ACTIVITY_FLUSH_MS = 2_000;
/** What a refused handshake may be told; anything else is `unavailable`. */
const PUBLIC_REFUSALS = new Set(['unauthorized', 'too many connections', 'draining', 'blocked']);

interface Admission {
  socket: Socket;
  userId: string;
  member: string;
}

interface Release {
  userId: string;
  member: string;
}

/**
 * The life of a connection on this gateway: admission at the handshake (token, connection
 * cap, lease, rooms), the heartbeat that keeps leases alive and sweeps those of dead
 * gateways, and the drain on shutdown.
 *
 * Handshakes that arrive together are admitted together (a reconnect storm is thousands
 * at once): one Postgres query for the rooms of all of them, one pipeline of lease
 * scripts, last activity written later in one statement. While batches are under way the
 * others queue, each until ADMIT_DEADLINE_MS; disconnects are released in batches too.
 */
@Injectable()
export class SessionsService {
  private epoch = 0;
  private draining = false;
  private heartbeat?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private activityFlusher?: NodeJS.Timeout;
  private expirer?: NodeJS.Timeout;
  /** Sockets whose lease (and rooms) admission wrote and nothing has released yet. */
  private readonly held = new WeakSet<Socket>();
  private readonly admissions: Batcher<Admission, void>;
  private readonly releases: Batcher<Release, void>;
  private readonly activity: ActivityLog;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NODE_ID) readonly nodeId: string,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly verifier: TokenVerifier,
    private readonly registry: ConnectionRegistry,
    private readonly local: LocalConnections,
    private readonly delivery: NodeDelivery,
    private readonly presence: PresenceHub,
    private readonly limits: RateLimits,
    private readonly work: WorkLimits,
    private readonly readModel: ReadModelRepository,
    private readonly blocks: BlockedUsers,
    @Inject(PG_POOL) pool: Pool,
  ) {
    const push = new PushRepository(pool);
    this.activity = new ActivityLog((batch) => push.touchMany(batch));
    const expired = () => new Error('unavailable');
    const admitBatch = (items: Admission[], deadline: number) =>
      this.admitBatch(items, deadline).catch((err: Error) => {
        // Once per batch, not per handshake: each is refused `unavailable`.
        this.log.warn({ err: err.message, handshakes: items.length }, 'handshakes refused: a backend failed');
        throw err;
      });
    this.admissions = new Batcher(admitBatch, { maxBatch: BATCH_MAX, maxInFlight: BATCHES_IN_FLIGHT, expired });
    this.releases = new Batcher((items) => this.releaseBatch(items), { maxBatch: BATCH_MAX, maxInFlight: BATCHES_IN_FLIGHT, expired });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async start(): Promise<void> {
    await this.blocks.start();
    this.epoch = await this.registry.nextEpoch(this.nodeId);
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    this.activityFlusher = setInterval(() => void this.flushActivity(), ACTIVITY_FLUSH_MS);
    this.activityFlusher.unref();
    this.expirer = setInterval(() => this.disconnectExpired(), EXPIRY_SWEEP_MS);
    this.expirer.unref();
  }

  /** After the drain, before the pools close: what is queued is done, last activity written. */
  async settle(): Promise<void> {
    await Promise.all([this.admissions.idle(), this.releases.idle()]);
    clearInterval(this.activityFlusher);
    await this.flushActivity();
  }

  stop(): void {
    this.blocks.stop();
    clearInterval(this.expirer);
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    clearInterval(this.activityFlusher);
  }

  /**
   * Socket.IO middleware: runs before the client sees `connect`, so that by the time it
   * syncs, its lease and rooms are in place and nothing committed later can miss it.
   */
  admit(socket: Socket, next: (err?: Error) => void): void {
    this.admitted(socket).then(
      () => {
        metrics.handshakes.inc({ result: 'admitted' });
        next();
        // Socket.IO drops, without a disconnect, a socket whose client went away while it
        // waited (it checks on the next tick): release what admission gave it.
        setImmediate(() => {
          if (!socket.connected) void this.release(socket);
        });
      },
      (err: Error) => {
        const refusal = PUBLIC_REFUSALS.has(err.message) ? err.message : 'unavailable';
        metrics.handshakes.inc({ result: refusal });
        next(new Error(refusal));
      },
    );
  }

  private async admitted(socket: Socket): Promise<void> {
    if (this.draining) throw new Error('draining');
    const deadline = Date.now() + ADMIT_DEADLINE_MS;
    const session = await this.verifier.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
    if (!session) throw new Error('unauthorized');
    if (this.blocks.has(session.userId)) throw new Error('blocked');
    const data: SocketData = {
      caller: { ...session, origin: `${this.nodeId}/${socket.id}`, writes: new OwnWrites() },
      member: leaseMember(this.nodeId, this.epoch, socket.id),
      limits: this.limits.forConnection(),
      work: this.work.forConnection(),
      inFlight: 0,
    };
    Object.assign(socket.data as object, data);
    await this.admissions.submit({ socket, userId: session.userId, member: data.member }, deadline);
  }

  /**
   * Admits handshakes together. Rooms of large conversations first (one query for all),
   * then the leases that route small ones here, each checked against the connection cap
   * in the script that writes it; a handshake refused there leaves its rooms again.
   */
  private async admitBatch(items: Admission[], deadline: number): Promise<Array<Outcome<void>>> {
    if (this.draining) return items.map(() => new Error('draining'));
    const large = await withPoolPatience(
      () => this.readModel.largeConversationsOfMany(items.map((i) => i.userId), this.config.CHAT_PUSH_FANOUT_MAX),
      deadline,
      () => metrics.admissionPoolWaits.inc(),
    );
    const joins = new Map<string, Socket[]>();
    for (const { socket, userId } of items) for (const id of large.get(userId) ?? []) joins.set(id, [...(joins.get(id) ?? []), socket]);
    try {
      await this.delivery.joinRooms(joins);
      const ups = await this.registry.connectMany(items, { cap: this.config.CHAT_MAX_CONNECTIONS_PER_USER });
      return items.map(({ socket, userId }, i) => {
        const up = ups[i]!;
        if (up === 'refused' || up instanceof Error) {
          this.delivery.dropSocket(socket);
          return up === 'refused' ? new Error('too many connections') : up;
        }
        this.held.add(socket);
        if (up === 'online') this.presence.announce(userId, 'online');
        this.activity.note(userId);
        return undefined;
      });
    } catch (err) {
      for (const { socket } of items) this.delivery.dropSocket(socket);
      throw err;
    }
  }

  /** After admission: the socket is live for delivery. */
  attach(socket: Socket): void {
    const { caller } = dataOf(socket);
    // Blocked while its handshake was being admitted: it goes like the user's other sockets did.
    if (this.blocks.has(caller.userId)) {
      socket.disconnect(true);
      return;
    }
    this.local.add(caller.userId, socket);
    metrics.connections.set({ node: this.nodeId }, this.local.size);
  }

  /** A token that expires ends its connection (within EXPIRY_SWEEP_MS). */
  disconnectExpired(now = Date.now()): void {
    const expired: Socket[] = [];
    for (const s of this.local.sockets()) if (dataOf(s).caller.exp * 1000 <= now) expired.push(s);
    // Disconnecting removes a socket from `local`: not while walking it.
    for (const socket of expired) socket.disconnect(true);
  }

  async detach(socket: Socket): Promise<void> {
    const data = socket.data as Partial<SocketData>;
    if (!data.caller || !data.member) return;
    this.local.remove(data.caller.userId, socket);
    metrics.connections.set({ node: this.nodeId }, this.local.size);
    this.delivery.dropSocket(socket);
    this.presence.dropSocket(socket);
    await this.release(socket);
  }

  /** Gives back what admission gave a socket: its rooms and its lease; once. */
  private async release(socket: Socket): Promise<void> {
    if (!this.held.has(socket)) return;
    this.held.delete(socket);
    const { caller, member } = dataOf(socket);
    this.delivery.dropSocket(socket);
    // Last activity: the push notifier wakes only users seen within CHAT_PUSH_ACTIVE_WITHIN.
    this.activity.note(caller.userId);
    // Past LEASE_MS the lease has expired by itself and the sweep reports the transition.
    await this.releases.submit({ userId: caller.userId, member }, Date.now() + LEASE_MS).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'lease release failed');
    });
  }

  private async releaseBatch(items: Release[]): Promise<Array<Outcome<void>>> {
    const downs: Array<Transition | undefined | Error> = await this.registry.disconnectMany(items);
    return items.map(({ userId }, i) => {
      const down = downs[i];
      if (down instanceof Error) return down;
      if (down) this.presence.announce(userId, down);
      return undefined;
    });
  }

  private async flushActivity(): Promise<void> {
    try {
      await this.activity.flush();
    } catch (err) {
      // Kept for the next flush.
      this.log.warn({ err: (err as Error).message, users: this.activity.size }, 'last activity not written; will retry');
    }
  }

  /** Renews this node's leases and its epoch (re-creating any Redis lost). */
  async beat(): Promise<void> {
    try {
      await this.registry.keepEpoch(this.nodeId, this.epoch);
      for (const { userId, transition } of await this.registry.renew(this.leases())) this.presence.announce(userId, transition);
      this.limits.prune();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed; will retry');
    }
  }

  /**
   * This node's leases, read as the renewal takes them (a slice at a time): no copy of all
   * of them lives across the heartbeat's round trips, and a socket gone meanwhile is left out.
   * A disconnect in the middle of a user's sockets can make the walk miss one of the others
   * this time: the next heartbeat renews it, well within LEASE_MS.
   */
  private *leases(): Generator<Lease & { member: string }> {
    for (const s of this.local.sockets()) yield { userId: dataOf(s).caller.userId, connectionId: s.id, member: dataOf(s).member };
  }

  /** Expires the leases dead nodes stopped renewing; every gateway sweeps, each transition is announced once. */
  async sweep(): Promise<void> {
    try {
      for (const userId of await this.registry.sweep()) this.presence.announce(userId, 'offline');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'lease sweep failed; will retry');
    }
  }

  /**
   * SIGTERM: refuse new connections, let the events being handled finish, then close each
   * transport so that its client reconnects (through the load balancer, elsewhere) and
   * syncs. Returns once every socket has gone or the deadline passed.
   */
  async drain(server: Server): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + this.config.CHAT_DRAIN_TIMEOUT;
    // Handshakes being admitted finish first (queued ones are refused `draining`), so that
    // every socket this node will hold is among those told to go.
    await this.admissions.idle();
    // Socket.IO connects an admitted socket on the next tick: let it, before looking.
    await new Promise((resolve) => setImmediate(resolve));
    const sockets = [...this.local.sockets()];
    this.log.info({ sockets: sockets.length }, 'draining');
    for (const socket of sockets) socket.emit('draining', { reconnectInMs: 0 });
    await until(() => sockets.every((s) => dataOf(s).inFlight === 0), deadline);
    for (const socket of sockets) socket.conn.close();
    await until(() => this.local.size === 0, deadline);
  }
}

async function until(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
