import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { WebhooksModule } from './webhooks.module';

void bootstrap({
  name: 'webhooks',
  module: (config) => ({ module: class WebhooksApp {}, imports: [InfraModule.forRoot(config, 'webhooks'), HealthModule, WebhooksModule] }),
});
