import { Module } from '@nestjs/common';
import type { Config } from '@chat/config';
import { CONFIG } from '@chat/platform';
import { NotifierService, PUSH_PROVIDERS } from './notifier.service';
import { pushProviders } from './push.providers';

/** The notifier: wake-ups for offline users through push providers. */
@Module({
  providers: [
    NotifierService,
    { provide: PUSH_PROVIDERS, inject: [CONFIG], useFactory: (config: Config) => pushProviders(config) },
  ],
})
export class NotifierModule {}
