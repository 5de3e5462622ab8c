import { Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { RouteTable, type RedisClient } from '@chat/connections';
import { ProjectionWatch, type Names } from '@chat/messaging';
import { CONFIG, LOGGER, NAMES, NATS, REDIS } from '@chat/platform';
import type { Platform, PushProvider } from '@chat/push';
import { PushRepository, ReadModelRepository } from '@chat/storage';
import { BatchNotifier } from './batch.notifier';
import { crashAfterSends } from './crash.hook';
import { MemberCache } from './member.cache';
import { NotifierService, PUSH_PROVIDERS } from './notifier.service';
import { OnlineRecorder } from './online.recorder';
import { pushProviders } from './push.providers';
import { RedisWakeClaims } from './wake.claims';

/** How long a batch waits for its projection before its messages are retried later. */
const PROJECTION_WAIT_MS = 10_000;
/** Wake-ups in flight at once, across users. */
const SEND_CONCURRENCY = 32;

/** The notifier: wake-ups for offline users through push providers. */
@Module({
  providers: [
    NotifierService,
    { provide: PUSH_PROVIDERS, inject: [CONFIG], useFactory: (config: Config) => pushProviders(config) },
    {
      provide: ProjectionWatch,
      inject: [NATS, NAMES, ReadModelRepository],
      useFactory: (nc: NatsConnection, names: Names, rm: ReadModelRepository) => new ProjectionWatch(nc, names, async (p) => (await rm.checkpoints()).get(p) ?? 0),
    },
    { provide: OnlineRecorder, inject: [PushRepository, LOGGER], useFactory: (push: PushRepository, log: Logger) => new OnlineRecorder(push, log) },
    {
      provide: BatchNotifier,
      inject: [CONFIG, NAMES, REDIS, LOGGER, ProjectionWatch, RouteTable, PushRepository, OnlineRecorder, PUSH_PROVIDERS],
      useFactory: (
        config: Config, names: Names, redis: RedisClient, log: Logger, watch: ProjectionWatch, routes: RouteTable,
        push: PushRepository, online: OnlineRecorder, providers: Map<Platform, PushProvider>,
      ) =>
        new BatchNotifier({
          projection: watch,
          members: new MemberCache((ids) => push.membersOf(ids)),
          presence: routes,
          store: push,
          online,
          claims: new RedisWakeClaims(redis, names, config.CHAT_PUSH_COALESCE),
          providers,
          afterSend: crashAfterSends(config.CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS),
          now: () => new Date(),
          settings: { activeWithinMs: config.CHAT_PUSH_ACTIVE_WITHIN, projectionWaitMs: PROJECTION_WAIT_MS, sendConcurrency: SEND_CONCURRENCY },
          log,
        }),
    },
  ],
})
export class NotifierModule {}
