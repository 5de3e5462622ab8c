import { DynamicModule, Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { clientTokens, TokenVerifier } from '@chat/auth';
import { CommandsModule, ConversationCache, RateLimits } from '@chat/commands';
import type { Config } from '@chat/config';
import { ConnectionRegistry } from '@chat/connections';
import { ProjectionWatch, type Names } from '@chat/messaging';
import { AdminGuard, LOGGER, NAMES, NATS, NODE_ID, REDIS } from '@chat/platform';
import { BlockRepository, ReadModelRepository, SearchQueries } from '@chat/storage';
import { BlockedUsers } from './blocked.users';
import { ChatGateway } from './chat.gateway';
import { WorkLimits } from './connection.work';
import { DEAF_AFTER_MS, LocalConnections } from './local-connections';
import { DevTokenController } from './dev-token.controller';
import { NodeController } from './node.controller';
import { NodeDelivery } from './node.delivery';
import { PresenceHub } from './presence.hub';
import { PushDevices } from './push.devices';
import { QueriesService } from './queries.service';
import { SEARCH_WATCH } from './search.watch';
import { SearchService } from './search.service';
import { SessionsService } from './sessions.service';
import { TypingRelay } from './typing.relay';
import { WebController } from './web.controller';

/** The Socket.IO gateway: authenticates sockets, turns events into commands, delivers live. */
@Module({})
export class GatewayModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: GatewayModule,
      imports: [CommandsModule],
      controllers: [NodeController, WebController, ...(config.CHAT_DEV_TOKENS ? [DevTokenController] : [])],
      providers: [
        ChatGateway,
        QueriesService,
        SearchService,
        {
          // The search index's commits, for read-your-writes of search (own.writes.ts).
          provide: SEARCH_WATCH,
          inject: [NATS, NAMES, SearchQueries],
          useFactory: async (nc: NatsConnection, names: Names, queries: SearchQueries) => {
            const watch = new ProjectionWatch(nc, names, (p) => queries.checkpoint(p), 'search');
            await watch.start();
            return watch;
          },
        },
        SessionsService,
        PushDevices,
        LocalConnections,
        AdminGuard,
        { provide: TokenVerifier, useValue: clientTokens(config) },
        {
          provide: RateLimits,
          useValue: new RateLimits({
            sendRate: config.CHAT_SEND_RATE, sendBurst: config.CHAT_SEND_BURST,
            eventRate: config.CHAT_EVENT_RATE, eventBurst: config.CHAT_EVENT_BURST,
            answerRate: config.CHAT_ANSWER_BYTES_RATE, answerBurst: config.CHAT_ANSWER_BYTES_BURST,
          }),
        },
        {
          provide: WorkLimits,
          useValue: new WorkLimits({
            maxQueries: config.CHAT_MAX_QUERIES_IN_FLIGHT,
            softBytes: config.CHAT_WRITE_BUFFER_SOFT_BYTES, hardBytes: config.CHAT_WRITE_BUFFER_HARD_BYTES,
            // "Stays over": as long as a backlog of acks may wait unflushed before it counts as not reading.
            graceMs: DEAF_AFTER_MS,
          }),
        },
        {
          provide: NodeDelivery,
          inject: [NATS, NAMES, NODE_ID, LocalConnections, ConversationCache, ReadModelRepository, LOGGER],
          useFactory: (nc: NatsConnection, names: Names, nodeId: string, local: LocalConnections, cache: ConversationCache, readModel: ReadModelRepository, log: Logger) =>
            new NodeDelivery(nc, names, nodeId, local, cache, readModel, log),
        },
        {
          provide: BlockedUsers,
          inject: [NATS, NAMES, BlockRepository, LocalConnections, LOGGER],
          useFactory: (nc: NatsConnection, names: Names, blocks: BlockRepository, local: LocalConnections, log: Logger) => new BlockedUsers(nc, names, blocks, local, log),
        },
        {
          provide: PresenceHub,
          inject: [NATS, NAMES, ConnectionRegistry, ReadModelRepository],
          useFactory: (nc: NatsConnection, names: Names, registry: ConnectionRegistry, rm: ReadModelRepository) =>
            new PresenceHub(nc, names, registry, (userId, others) => rm.sharingAConversation(userId, others)),
        },
        {
          provide: TypingRelay,
          inject: [REDIS, NAMES, ConnectionRegistry, ConversationCache, NodeDelivery],
          useFactory: (redis: Redis, names: Names, registry: ConnectionRegistry, cache: ConversationCache, delivery: NodeDelivery) =>
            new TypingRelay(redis, names, registry, cache, delivery, config.CHAT_PUSH_FANOUT_MAX),
        },
      ],
    };
  }
}
