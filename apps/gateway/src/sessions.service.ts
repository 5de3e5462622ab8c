import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { Config } from '@chat/config';
import { ConnectionRegistry, HEARTBEAT_MS, leaseMember, SWEEP_MS } from '@chat/connections';
import type { Pool } from 'pg';
import { CONFIG, LOGGER, metrics, NODE_ID, PG_POOL } from '@chat/platform';
import { PushRepository, ReadModelRepository } from '@chat/storage';
import { dataOf, LocalConnections, type SocketData } from './local-connections';
import { NodeDelivery } from './node.delivery';
import { PresenceHub } from './presence.hub';
import { RateLimits } from './rate-limiter';
import { TokenVerifier } from './token.verifier';

/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The life of a connection on this gateway: admission at the handshake (token, connection
 * cap, lease, rooms), the heartbeat that keeps leases alive and sweeps those of dead
 * gateways, and the drain on shutdown.
 */
@Injectable()
export class SessionsService {
  private epoch = 0;
  private draining = false;
  private heartbeat?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;

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
    private readonly readModel: ReadModelRepository,
    @Inject(PG_POOL) pool: Pool,
  ) {
    this.push = new PushRepository(pool);
  }

  private readonly push: PushRepository;

  get isDraining(): boolean {
    return this.draining;
  }

  async start(): Promise<void> {
    this.epoch = await this.registry.nextEpoch(this.nodeId);
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
  }

  /**
   * Socket.IO middleware: runs before the client sees `connect`, so that by the time it
   * syncs, its lease and rooms are in place and nothing committed later can miss it.
   */
  admit(socket: Socket, next: (err?: Error) => void): void {
    this.admitted(socket).then(
      () => next(),
      (err: Error) => next(new Error(err.message === 'unauthorized' || err.message === 'too many connections' || err.message === 'draining' ? err.message : 'unavailable')),
    );
  }

  private async admitted(socket: Socket): Promise<void> {
    if (this.draining) throw new Error('draining');
    const session = await this.verifier.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
    if (!session) throw new Error('unauthorized');
    if ((await this.registry.liveConnections(session.userId)) >= this.config.CHAT_MAX_CONNECTIONS_PER_USER) throw new Error('too many connections');
    const data: SocketData = {
      caller: { ...session, origin: `${this.nodeId}/${socket.id}` },
      member: leaseMember(this.nodeId, this.epoch, socket.id),
      readMarkers: new Map(),
      watching: new Set(),
      limits: this.limits.forConnection(),
      inFlight: 0,
    };
    Object.assign(socket.data as object, data);
    // Rooms of the large conversations first, then the lease that routes small ones here.
    for (const conversationId of await this.readModel.largeConversationsOf(session.userId, this.config.CHAT_PUSH_FANOUT_MAX)) {
      await this.delivery.joinRoom(conversationId, [socket]);
    }
    const transition = await this.registry.connect(session.userId, data.member);
    if (transition) this.presence.announce(session.userId, transition);
    await this.push.touch(session.userId);
  }

  /** After admission: the socket is live for delivery. */
  attach(socket: Socket): void {
    const { caller } = dataOf(socket);
    this.local.add(caller.userId, socket);
    metrics.connections.set({ node: this.nodeId }, this.local.size);
    // A token that expires ends the connection; events racing it get UNAUTHORIZED.
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(MAX_TIMER_MS, Math.max(0, caller.exp * 1000 - Date.now())));
    expiry.unref();
    socket.once('disconnect', () => clearTimeout(expiry));
  }

  async detach(socket: Socket): Promise<void> {
    const data = socket.data as Partial<SocketData>;
    if (!data.caller || !data.member) return;
    this.local.remove(data.caller.userId, socket);
    metrics.connections.set({ node: this.nodeId }, this.local.size);
    this.delivery.dropSocket(socket);
    this.presence.dropSocket(socket);
    // Last activity: the push notifier wakes only users seen within CHAT_PUSH_ACTIVE_WITHIN.
    await this.push.touch(data.caller.userId).catch(() => undefined);
    try {
      const transition = await this.registry.disconnect(data.caller.userId, data.member);
      if (transition) this.presence.announce(data.caller.userId, transition);
    } catch (err) {
      // The lease expires by itself and the sweep reports the transition.
      this.log.warn({ err: (err as Error).message }, 'lease release failed');
    }
  }

  /** Renews this node's leases and its epoch (re-creating any Redis lost). */
  async beat(): Promise<void> {
    try {
      await this.registry.keepEpoch(this.nodeId, this.epoch);
      const leases = [...this.local.sockets()].map((s) => ({ userId: dataOf(s).caller.userId, connectionId: s.id, member: dataOf(s).member }));
      for (const { userId, transition } of await this.registry.renew(leases)) this.presence.announce(userId, transition);
      this.limits.prune();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed; will retry');
    }
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
