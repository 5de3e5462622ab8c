import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Config } from '@chat/config';
import { ConnectionRegistry } from '@chat/connections';
import type { Names } from '@chat/messaging';
import { CONFIG, NAMES, REDIS } from '@chat/platform';
import { NotifierService, PUSH_PROVIDERS, PUSH_REGISTRY } from './notifier.service';
import { pushProviders } from './push.providers';

/** The notifier: wake-ups for offline users through push providers. */
@Module({
  providers: [
    NotifierService,
    { provide: PUSH_PROVIDERS, inject: [CONFIG], useFactory: (config: Config) => pushProviders(config) },
    { provide: PUSH_REGISTRY, inject: [REDIS, NAMES], useFactory: (redis: Redis, names: Names) => new ConnectionRegistry(redis, names) },
  ],
})
export class NotifierModule {}
