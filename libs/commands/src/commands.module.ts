import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Config } from '@chat/config';
import { ProjectionWatch, type LogPublisher, type Names } from '@chat/messaging';
import { CONFIG, JETSTREAM_MANAGER, LOG_PUBLISHER, NAMES, NATS } from '@chat/platform';
import { ReadModelRepository } from '@chat/storage';
import { AttachmentsService } from './attachments.service';
import { CommandsService } from './commands.service';
import { ConversationCache } from './conversation.cache';
import { OwnSends } from './own.sends';
import { SendDeduplicator } from './send.deduplicator';
import { ThreadRoots } from './thread.roots';

/**
 * The write side, once per process: the commands, the conversation cache they check
 * against, the send deduplicator and the projection watch they wait on. The socket
 * gateway and the server API both import it, so that in a process serving both (the
 * all-in-one's front) they share one cache and one watch.
 */
@Module({
  providers: [
    CommandsService,
    AttachmentsService,
    { provide: ThreadRoots, useFactory: () => new ThreadRoots() },
    { provide: OwnSends, useFactory: () => new OwnSends() },
    { provide: ConversationCache, inject: [ReadModelRepository], useFactory: (rm: ReadModelRepository) => new ConversationCache(rm) },
    {
      provide: ProjectionWatch,
      inject: [NATS, NAMES, ReadModelRepository],
      useFactory: (nc: NatsConnection, names: Names, rm: ReadModelRepository) => new ProjectionWatch(nc, names, async (p) => (await rm.checkpoints()).get(p) ?? 0),
    },
    {
      provide: SendDeduplicator,
      inject: [CONFIG, LOG_PUBLISHER, JETSTREAM_MANAGER, NAMES, ProjectionWatch, ReadModelRepository],
      useFactory: (config: Config, log: LogPublisher, jsm: JetStreamManager, names: Names, watch: ProjectionWatch, rm: ReadModelRepository) =>
        new SendDeduplicator(log, jsm, names, watch, rm, config.CHAT_DUPLICATE_WINDOW),
    },
  ],
  exports: [CommandsService, AttachmentsService, ConversationCache, ProjectionWatch],
})
export class CommandsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ProjectionWatch) private readonly watch: ProjectionWatch) {}

  /** Nest bootstraps imported modules first: the watch listens before a gateway admits a socket or the API takes a request. */
  onApplicationBootstrap(): Promise<void> {
    return this.watch.start();
  }

  onApplicationShutdown(): void {
    this.watch.stop();
  }
}
