import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { JetStreamTransport } from './jetstream.transport';
import { ProjectorModule } from './projector.module';

void bootstrap({
  name: 'projector',
  module: (config) => ({ module: class ProjectorApp {}, imports: [InfraModule.forRoot(config, 'projector'), HealthModule, ProjectorModule] }),
  configure: (app) => ({ microservice: app.get(JetStreamTransport) }),
});
