import { Inject, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import {
  ChatError,
  isClientEventName,
  parseClientPayload,
  type Ack,
  type AckFailure,
  type AckResults,
  type ClientEventName,
  type ClientPayload,
} from '@chat/contracts';
import { ConnectionRegistry } from '@chat/connections';
import { LOGGER, NODE_ID } from '@chat/platform';
import { CommandsService, type Caller } from './commands.service';
import { LocalConnections } from './local-connections';
import { NodeDelivery } from './node.delivery';
import { ProjectionWatch } from './projection.watch';
import { QueriesService } from './queries.service';
import { TokenVerifier } from './token.verifier';

/** Registry leases are re-asserted this often; they expire after REGISTRY_TTL_S without it. */
const HEARTBEAT_MS = 15_000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SocketData {
  caller: Caller;
  /** conversation -> last read marker this connection appended. */
  readMarkers: Map<string, number>;
}

/** Socket.IO events -> commands and queries, each answered with a PROTOCOL.md ack. */
@WebSocketGateway()
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationBootstrap, OnApplicationShutdown {
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly commands: CommandsService,
    private readonly queries: QueriesService,
    private readonly verifier: TokenVerifier,
    private readonly local: LocalConnections,
    private readonly registry: ConnectionRegistry,
    private readonly delivery: NodeDelivery,
    private readonly watch: ProjectionWatch,
    @Inject(NODE_ID) private readonly nodeId: string,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => {
      this.verifier.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token).then(
        (session) => {
          if (!session) return next(new Error('unauthorized'));
          const data: SocketData = { caller: { ...session, origin: `${this.nodeId}/${socket.id}` }, readMarkers: new Map() };
          Object.assign(socket.data as object, data);
          next();
        },
        () => next(new Error('unauthorized')),
      );
    });
  }

  onApplicationBootstrap(): void {
    this.watch.start();
    this.delivery.start();
    this.heartbeat = setInterval(() => {
      this.registry.refresh(this.local.entries(), this.nodeId).catch((err: Error) => this.log.warn({ err: err.message }, 'registry heartbeat failed'));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.heartbeat);
    this.delivery.stop();
    this.watch.stop();
  }

  handleConnection(socket: Socket): void {
    const { caller } = socket.data as SocketData;
    this.local.add(caller.userId, socket);
    this.registry.register(caller.userId, socket.id, this.nodeId).catch((err: Error) => {
      // Live delivery waits for the next heartbeat; sync still has everything.
      this.log.warn({ err: err.message, userId: caller.userId }, 'registry write failed');
    });
    const expiry = setTimeout(() => socket.disconnect(true), Math.min(MAX_TIMER_MS, Math.max(0, caller.exp * 1000 - Date.now())));
    expiry.unref();
    socket.once('disconnect', () => clearTimeout(expiry));
    socket.onAny((event: string, ...args: unknown[]) => {
      if (isClientEventName(event)) return;
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack(new ChatError('BAD_REQUEST', `unknown event: ${event.slice(0, 64)}`).toAck());
    });
  }

  handleDisconnect(socket: Socket): void {
    const caller = (socket.data as Partial<SocketData>).caller;
    if (!caller) return;
    this.local.remove(caller.userId, socket);
    this.registry.unregister(caller.userId, socket.id).catch(() => undefined);
  }

  @SubscribeMessage('conversation:create')
  create(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'conversation:create', p, (c, v) => this.commands.create(c, v));
  }

  @SubscribeMessage('conversation:add_members')
  addMembers(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'conversation:add_members', p, (c, v) => this.commands.addMembers(c, v));
  }

  @SubscribeMessage('conversation:remove_members')
  removeMembers(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'conversation:remove_members', p, (c, v) => this.commands.removeMembers(c, v));
  }

  @SubscribeMessage('conversation:list')
  list(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'conversation:list', p, (c, v) => this.queries.list(c, v));
  }

  @SubscribeMessage('message:send')
  send(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'message:send', p, (c, v) => this.commands.send(c, v));
  }

  @SubscribeMessage('message:edit')
  edit(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'message:edit', p, (c, v) => this.commands.edit(c, v));
  }

  @SubscribeMessage('message:delete')
  delete(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'message:delete', p, (c, v) => this.commands.delete(c, v));
  }

  @SubscribeMessage('reaction:add')
  addReaction(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'reaction:add', p, (c, v) => this.commands.react(c, v, 'add'));
  }

  @SubscribeMessage('reaction:remove')
  removeReaction(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'reaction:remove', p, (c, v) => this.commands.react(c, v, 'remove'));
  }

  @SubscribeMessage('read')
  read(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'read', p, (c, v) => this.commands.read(c, v, (s.data as SocketData).readMarkers));
  }

  @SubscribeMessage('sync')
  sync(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'sync', p, (c, v) => this.queries.sync(c, v));
  }

  @SubscribeMessage('history')
  history(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'history', p, (c, v) => this.queries.history(c, v));
  }

  /**
   * Every event goes through here: token still valid, payload valid, then the work.
   * Whatever happens, the answer is an ack; nothing thrown reaches Socket.IO.
   */
  private async run<E extends ClientEventName>(
    socket: Socket,
    event: E,
    payload: unknown,
    work: (caller: Caller, payload: ClientPayload<E>) => Promise<AckResults[E]>,
  ): Promise<Ack<AckResults[E]>> {
    const { caller } = socket.data as SocketData;
    if (caller.exp * 1000 <= Date.now()) return fail('UNAUTHORIZED', 'token expired; reconnect with a new one');
    const parsed = parseClientPayload(event, payload);
    if (!parsed.ok) return fail(parsed.code, parsed.message);
    try {
      return { ok: true, ...(await work(caller, parsed.value)) };
    } catch (err) {
      if (err instanceof ChatError) return err.toAck();
      this.log.error({ event, userId: caller.userId, err: (err as Error).message }, 'command failed on a backend');
      return fail('UNAVAILABLE', 'a backend is unavailable; retry with the same ids');
    }
  }
}

function fail(code: AckFailure['error']['code'], message: string): AckFailure {
  return { ok: false, error: { code, message } };
}

