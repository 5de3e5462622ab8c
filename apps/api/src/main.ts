import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { ApiModule } from './api.module';

void bootstrap({
  name: 'api',
  module: (config) => ({ module: class ApiApp {}, imports: [InfraModule.forRoot(config, 'api'), HealthModule, ApiModule] }),
});
