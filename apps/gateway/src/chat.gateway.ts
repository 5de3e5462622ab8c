import { BeforeApplicationShutdown, Inject, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
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
import { LOGGER } from '@chat/platform';
import { CommandsService, type Caller } from './commands.service';
import { dataOf } from './local-connections';
import { NodeDelivery } from './node.delivery';
import { PresenceHub } from './presence.hub';
import { ProjectionWatch } from './projection.watch';
import { QueriesService } from './queries.service';
import { RateLimits } from './rate-limiter';
import { SessionsService } from './sessions.service';
import { TypingRelay } from './typing.relay';

/** Socket.IO events -> commands and queries, each answered with a PROTOCOL.md ack. */
@WebSocketGateway()
export class ChatGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  @WebSocketServer() private server!: Server;

  constructor(
    private readonly commands: CommandsService,
    private readonly queries: QueriesService,
    private readonly sessions: SessionsService,
    private readonly delivery: NodeDelivery,
    private readonly presence: PresenceHub,
    private readonly typing: TypingRelay,
    private readonly limits: RateLimits,
    private readonly watch: ProjectionWatch,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => this.sessions.admit(socket, next));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.watch.start();
    this.delivery.start();
    await this.sessions.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sessions.drain(this.server);
  }

  onApplicationShutdown(): void {
    this.sessions.stop();
    this.delivery.stop();
    this.watch.stop();
  }

  handleConnection(socket: Socket): void {
    this.sessions.attach(socket);
    socket.onAny((event: string, ...args: unknown[]) => {
      if (isClientEventName(event)) return;
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack(new ChatError('BAD_REQUEST', `unknown event: ${event.slice(0, 64)}`).toAck());
    });
  }

  handleDisconnect(socket: Socket): Promise<void> {
    return this.sessions.detach(socket);
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
    return this.run(s, 'read', p, (c, v) => this.commands.read(c, v, dataOf(s).readMarkers));
  }

  @SubscribeMessage('sync')
  sync(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'sync', p, (c, v) => this.queries.sync(c, v));
  }

  @SubscribeMessage('history')
  history(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'history', p, (c, v) => this.queries.history(c, v));
  }

  @SubscribeMessage('typing')
  typingEvent(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'typing', p, async (c, v) => (await this.typing.relay(c, v), {}));
  }

  @SubscribeMessage('presence:subscribe')
  watchPresence(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'presence:subscribe', p, async (_c, v) => ({ presence: await this.presence.subscribe(s, v.userIds) }));
  }

  @SubscribeMessage('presence:unsubscribe')
  unwatchPresence(@ConnectedSocket() s: Socket, @MessageBody() p: unknown) {
    return this.run(s, 'presence:unsubscribe', p, async (_c, v) => (this.presence.unsubscribe(s, v.userIds), {}));
  }

  /**
   * Every event goes through here: token still valid, within the rate limits, payload
   * valid, then the work. Whatever happens, the answer is an ack; nothing thrown reaches
   * Socket.IO.
   */
  private async run<E extends ClientEventName>(
    socket: Socket,
    event: E,
    payload: unknown,
    work: (caller: Caller, payload: ClientPayload<E>) => Promise<AckResults[E]>,
  ): Promise<Ack<AckResults[E]>> {
    const data = dataOf(socket);
    const { caller } = data;
    if (caller.exp * 1000 <= Date.now()) return fail('UNAUTHORIZED', 'token expired; reconnect with a new one');
    const wait = this.limits.check(caller.userId, data.limits, event === 'message:send' ? 'send' : 'other');
    if (wait > 0) return { ok: false, error: { code: 'RATE_LIMITED', message: 'too many requests', retryAfterMs: wait } };
    const parsed = parseClientPayload(event, payload);
    if (!parsed.ok) return fail(parsed.code, parsed.message);
    data.inFlight++;
    try {
      return { ok: true, ...(await work(caller, parsed.value)) };
    } catch (err) {
      if (err instanceof ChatError) return err.toAck();
      this.log.error({ event, userId: caller.userId, err: (err as Error).message }, 'command failed on a backend');
      return fail('UNAVAILABLE', 'a backend is unavailable; retry with the same ids');
    } finally {
      data.inFlight--;
    }
  }
}

function fail(code: AckFailure['error']['code'], message: string): AckFailure {
  return { ok: false, error: { code, message } };
}
