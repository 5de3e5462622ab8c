import { Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { RouteTable, type RedisClient } from '@chat/connections';
import { ProjectionWatch, type Names } from '@chat/messaging';
import { CONFIG, LOGGER, NAMES, NATS, REDIS } from '@chat/platform';
import { PushSender, type Platform, type PushProvider } from '@chat/push';
import { PushRepository, ReadModelRepository } from '@chat/storage';
import { BatchNotifier } from './batch.notifier';
import { crashAfterSends } from './crash.hook';
import { MemberCache } from './member.cache';
import { NotifierService, PUSH_PROVIDERS } from './notifier.service';
import { OnlineRecorder } from './online.recorder';
import { pushProviders } from './push.providers';
import { RedisWakeClaims } from './wake.claims';
import { WakeSender } from './wake.sender';

/** How long a batch waits for its projection before its messages are retried later. */
const PROJECTION_WAIT_MS = 10_000;
/** Wake windows claimed at once, across users (Redis round trips; the sends have the PushSender's bounds). */
const CLAIM_CONCURRENCY = 32;

/** The notifier: wake-ups for offline users through push providers. */
@Module({
  providers: [
    NotifierService,
    { provide: PUSH_PROVIDERS, inject: [CONFIG], useFactory: (config: Config) => pushProviders(config) },
    // A try's own deadline is CHAT_PUSH_TIMEOUT per request; FCM and APNs may make two requests (token, send).
    { provide: PushSender, inject: [CONFIG], useFactory: (config: Config) => new PushSender({ attemptTimeoutMs: 2 * config.CHAT_PUSH_TIMEOUT + 1_000 }) },
    {
      provide: ProjectionWatch,
      inject: [NATS, NAMES, ReadModelRepository],
      useFactory: (nc: NatsConnection, names: Names, rm: ReadModelRepository) => new ProjectionWatch(nc, names, async (p) => (await rm.checkpoints()).get(p) ?? 0),
    },
    { provide: OnlineRecorder, inject: [PushRepository, LOGGER], useFactory: (push: PushRepository, log: Logger) => new OnlineRecorder(push, log) },
    {
      provide: BatchNotifier,
      inject: [CONFIG, NAMES, REDIS, LOGGER, ProjectionWatch, RouteTable, PushRepository, OnlineRecorder, PUSH_PROVIDERS, PushSender],
      useFactory: (
        config: Config, names: Names, redis: RedisClient, log: Logger, watch: ProjectionWatch, routes: RouteTable,
        push: PushRepository, online: OnlineRecorder, providers: Map<Platform, PushProvider>, sender: PushSender,
      ) =>
        new BatchNotifier({
          projection: watch,
          members: new MemberCache((ids) => push.membersOf(ids)),
          presence: routes,
          store: push,
          online,
          claims: new RedisWakeClaims(redis, names, config.CHAT_PUSH_COALESCE),
          wakes: new WakeSender({ sender, providers, store: push, afterSend: crashAfterSends(config.CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS), log }),
          now: () => new Date(),
          settings: { activeWithinMs: config.CHAT_PUSH_ACTIVE_WITHIN, projectionWaitMs: PROJECTION_WAIT_MS, sendConcurrency: CLAIM_CONCURRENCY },
          log,
        }),
    },
  ],
})
export class NotifierModule {}
