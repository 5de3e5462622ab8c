import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { ArchiverModule } from './archiver.module';

void bootstrap({
  name: 'archiver',
  module: (config) => ({ module: class ArchiverApp {}, imports: [InfraModule.forRoot(config, 'archiver'), HealthModule, ArchiverModule] }),
});
