import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { NotifierModule } from './notifier.module';

void bootstrap({
  name: 'notifier',
  module: (config) => ({ module: class NotifierApp {}, imports: [InfraModule.forRoot(config, 'notifier'), HealthModule, NotifierModule] }),
});
