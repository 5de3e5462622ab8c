import { BeforeApplicationShutdown, Inject, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import {
  ChatError,
  containsBinary,
  isClientEventName,
  parseClientPayload,
  type Ack,
  type AckFailure,
  type AckResults,
  type ClientEventName,
  type ClientPayload,
} from '@chat/contracts';
import { AttachmentsService, CommandsService, RateLimits } from '@chat/commands';
import { ProjectionWatch, traced } from '@chat/messaging';
import { LOGGER, metrics } from '@chat/platform';
import { CorruptBlockError } from '@chat/storage';
import { WorkLimits } from './connection.work';
import { closedIfNotReadingAcks, dataOf, waitingBytes, type SocketCaller } from './local-connections';
import { NodeDelivery } from './node.delivery';
import { PresenceHub } from './presence.hub';
import { PushDevices } from './push.devices';
import { OWN_WRITES_WAIT_MS } from './own.writes';
import { QueriesService } from './queries.service';
import { SEARCH_WATCH } from './search.watch';
import { SearchService } from './search.service';
import { SessionsService } from './sessions.service';
import { TypingRelay } from './typing.relay';

/** Socket.IO events -> commands and queries, each answered with a docs/protocol.md ack. */
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
    private readonly work: WorkLimits,
    private readonly watch: ProjectionWatch,
    private readonly pushDevices: PushDevices,
    private readonly searches: SearchService,
    @Inject(SEARCH_WATCH) private readonly searchWatch: ProjectionWatch,
    private readonly attachments: AttachmentsService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => this.sessions.admit(socket, next));
  }

  /** After CommandsModule's (an import, bootstrapped first): the projection watch is listening already. */
  async onApplicationBootstrap(): Promise<void> {
    this.delivery.start();
    await this.sessions.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sessions.drain(this.server);
    await this.sessions.settle();
  }

  onApplicationShutdown(): void {
    this.searchWatch.stop();
    this.sessions.stop();
    this.delivery.stop();
  }

  handleConnection(socket: Socket): void {
    this.sessions.attach(socket);
    socket.onAny(this.onEvent);
  }

  /**
   * The one listener of every socket, shared: Socket.IO calls it with the socket as `this`
   * (`listener.apply(socket, args)`), so no socket needs a closure of its own.
   */
  private readonly onEvent = ((gateway: ChatGateway) =>
    function (this: Socket, event: unknown, ...args: unknown[]) {
      gateway.dispatch(this, event, args);
    })(this);

  handleDisconnect(socket: Socket): Promise<void> {
    return this.sessions.detach(socket);
  }

  /** Every client event and what answers it; one table, so a socket costs one listener, not one per event. */
  private readonly handlers: { [E in ClientEventName]: (caller: SocketCaller, payload: ClientPayload<E>, socket: Socket) => Promise<AckResults[E]> } = {
    'conversation:create': (c, p) => this.commands.create(c, p),
    'conversation:add_members': (c, p) => this.commands.addMembers(c, p),
    'conversation:remove_members': (c, p) => this.commands.removeMembers(c, p),
    'conversation:list': (c, p, s) => this.queries.list(c, p, this.answerMeter(c, s)),
    'message:send': (c, p) => this.commands.send(c, p),
    'message:edit': (c, p) => this.commands.edit(c, p),
    'message:delete': (c, p) => this.commands.delete(c, p),
    'reaction:add': (c, p) => this.commands.react(c, p, 'add'),
    'reaction:remove': (c, p) => this.commands.react(c, p, 'remove'),
    read: (c, p, s) => this.commands.read(c, p, (dataOf(s).readMarkers ??= new Map())),
    sync: (c, p, s) => this.queries.sync(c, p, this.answerMeter(c, s)),
    history: (c, p, s) => this.queries.history(c, p, this.answerMeter(c, s)),
    typing: async (c, p) => (await this.typing.relay(c, p), {}),
    'presence:subscribe': async (_c, p, s) => ({ presence: await this.presence.subscribe(s, p.userIds) }),
    'presence:unsubscribe': async (_c, p, s) => (this.presence.unsubscribe(s, p.userIds), {}),
    'push:register': async (c, p, s) => (await this.pushDevices.register(c, p, dataOf(s)), {}),
    'push:unregister': async (c, _p, s) => (await this.pushDevices.unregister(c, dataOf(s)), {}),
    'conversation:notify': (c, p) => this.commands.notify(c, p),
    receipts: (c, p) => this.queries.receipts(c, p),
    'conversation:set_role': (c, p) => this.commands.setRole(c, p),
    'conversation:mute_member': (c, p) => this.commands.mute(c, p),
    'conversation:unmute_member': (c, p) => this.commands.unmute(c, p),
    'conversation:set_slow_mode': (c, p) => this.commands.setSlowMode(c, p),
    'message:report': (c, p) => this.commands.report(c, p),
    search: (c, p, s) => this.searches.search(c, p, this.answerMeter(c, s)),
    'attachment:create': (c, p) => this.attachments.create(c, p),
    'attachment:url': (c, p) => this.attachments.url(c, p),
  };

  /** Socket.IO delivers every event here: the payload first, the ack callback last. */
  private dispatch(socket: Socket, name: unknown, args: unknown[]): void {
    // Socket.IO also lets a number through as an event name (`42[1,{}]`).
    const event = String(name);
    const given = typeof args[args.length - 1] === 'function' ? (args.pop() as (answer: unknown) => void) : undefined;
    // An ack is one more packet to write: none for a client that is not reading them.
    const ack = given && ((answer: unknown) => closedIfNotReadingAcks(socket) || given(answer));
    metrics.eventsReceived.inc({ event: isClientEventName(event) ? event : 'unknown' });
    if (!isClientEventName(event)) {
      // Unknown events spend the same budget as known ones: a flood of garbage is limited too.
      const wait = this.limits.check(dataOf(socket).caller.userId, dataOf(socket).limits, 'other');
      ack?.(wait > 0 ? rateLimited(wait) : new ChatError('BAD_REQUEST', `unknown event: ${event.slice(0, 64)}`).toAck());
      return;
    }
    const handler = this.handlers[event] as (c: SocketCaller, p: unknown, s: Socket) => Promise<AckResults[ClientEventName]>;
    void this.run(socket, event, args, handler).then((answer) => {
      if (!answer.ok) metrics.refusals.inc({ event, code: answer.error.code });
      if (event === 'message:send') metrics.sends.inc({ result: answer.ok ? ((answer as { duplicate?: boolean }).duplicate ? 'duplicate' : 'accepted') : answer.error.code });
      ack?.(answer);
    });
  }

  /**
   * Every event goes through here: token still valid, within the rate limits, payload
   * valid, then the work. Whatever happens, the answer is an ack; nothing thrown reaches
   * Socket.IO.
   */
  private async run<E extends ClientEventName>(
    socket: Socket,
    event: E,
    args: unknown[],
    work: (caller: SocketCaller, payload: ClientPayload<E>, socket: Socket) => Promise<AckResults[E]>,
  ): Promise<Ack<AckResults[E]>> {
    const data = dataOf(socket);
    const { caller } = data;
    if (caller.exp * 1000 <= Date.now()) return fail('UNAUTHORIZED', 'token expired; reconnect with a new one');
    const wait = this.limits.check(caller.userId, data.limits, event === 'message:send' ? 'send' : 'other');
    if (wait > 0) return rateLimited(wait);
    // JSON only: binary anywhere in the packet is refused, even where no field would read it.
    if (containsBinary(args)) return fail('BAD_REQUEST', 'binary data is not allowed: the protocol is JSON only');
    const parsed = parseClientPayload(event, args[0]);
    if (!parsed.ok) return fail(parsed.code, parsed.message);
    const query = QUERIES.has(event);
    if (query) {
      const owed = this.limits.answerWait(caller.userId, data.limits);
      if (owed > 0) return rateLimited(owed);
      const later = this.work.admit(data.work, waitingBytes(socket));
      if (later > 0) return rateLimited(later);
    }
    const started = performance.now();
    data.inFlight++;
    const timer = event === 'sync' || event === 'history' || event === 'search' ? metrics.queryLatency.startTimer({ query: event }) : undefined;
    try {
      // Read-your-writes: a query shows what this connection's commands were acked with.
      // A search waits for the index as well: it follows the timeline, a little behind.
      const owed = !query ? undefined : event === 'search' ? caller.writes.caughtUp(this.searchWatch, OWN_WRITES_WAIT_MS, 'search') : caller.writes.caughtUp(this.watch);
      if (owed && !(await owed)) return fail('UNAVAILABLE', 'the read models have not caught up with this connection\'s last command yet; retry');
      return { ok: true, ...(await traced(`chat ${event}`, () => work(caller, parsed.value, socket))) };
    } catch (err) {
      if (err instanceof ChatError) return err.toAck();
      if (err instanceof CorruptBlockError) {
        // Reported (damaged_blocks, the log); the page is refused rather than served incomplete.
        this.log.error({ cid: `${caller.origin}#${event}`, err: err.message }, 'archived block damaged');
        return fail('UNAVAILABLE', 'archived messages of this page are damaged; operators have been told');
      }
      // The correlation id ties this line to the connection and the command; never the payload.
      this.log.error({ cid: `${caller.origin}#${event}`, userId: caller.userId, err: (err as Error).message }, 'command failed on a backend');
      return fail('UNAVAILABLE', 'a backend is unavailable; retry with the same ids');
    } finally {
      timer?.();
      data.inFlight--;
      if (query) this.work.done(data.work, performance.now() - started);
    }
  }

  /** What a query's answer costs its connection's and user's answer buckets, once its size is known. */
  private answerMeter(caller: SocketCaller, socket: Socket): (bytes: number) => void {
    return (bytes) => this.limits.spendAnswer(caller.userId, dataOf(socket).limits, bytes);
  }
}

/** Events answered from the read models, whose answers can be large: they take one of the connection's query slots. */
const QUERIES: ReadonlySet<ClientEventName> = new Set<ClientEventName>(['sync', 'history', 'conversation:list', 'search']);

function rateLimited(retryAfterMs: number): AckFailure {
  return { ok: false, error: { code: 'RATE_LIMITED', message: 'too many requests', retryAfterMs } };
}

function fail(code: AckFailure['error']['code'], message: string): AckFailure {
  return { ok: false, error: { code, message } };
}
