import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { checkDependencies, InfraModule, NATS, PG_POOL, REDIS, bootstrap, registry } from '@chat/platform';
import { ArchiverModule } from '../../archiver/src/archiver.module';
import { NotifierModule } from '../../notifier/src/notifier.module';
import { JetStreamTransport } from '../../projector/src/jetstream.transport';
import { ProjectorModule } from '../../projector/src/projector.module';
import { WebhooksModule } from '../../webhooks/src/webhooks.module';
import { SupervisorLink } from './supervisor.link';

/**
 * The all-in-one's worker process: the projector, the notifier, the archiver and the
 * integrator webhooks (when CHAT_WEBHOOK_URL is set). It serves no HTTP; the front
 * answers for its health and metrics, which it asks for here.
 */
const link = new SupervisorLink('worker');
let app: NestExpressApplication | undefined;
link.answerWith(async (question) => {
  switch (question) {
    case 'alive':
      return {};
    case 'readiness':
      return app ? { checks: await checkDependencies(app.get(NATS), app.get(PG_POOL), app.get(REDIS)) } : { error: 'starting' };
    case 'metrics':
      return { metrics: await registry.getMetricsAsJSON() };
  }
});
void bootstrap({
  name: 'all-in-one worker',
  module: (config) => ({
    module: class AllInOneWorker {},
    imports: [InfraModule.forRoot(config, 'aio-worker'), ProjectorModule, NotifierModule, ArchiverModule, WebhooksModule],
  }),
  configure: (nest) => ({ microservice: nest.get(JetStreamTransport) }),
  http: false,
}).then((started) => {
  app = started;
  link.started();
});
