import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { ApiModule } from '../../api/src/api.module';
import { ArchiverModule } from '../../archiver/src/archiver.module';
import { NotifierModule } from '../../notifier/src/notifier.module';
import { GatewayModule } from '../../gateway/src/gateway.module';
import { ChatSocketAdapter } from '../../gateway/src/socket-io.adapter';
import { JetStreamTransport } from '../../projector/src/jetstream.transport';
import { ProjectorModule } from '../../projector/src/projector.module';

/** Every app in one process: what `npm start` and `npm run up` run. */
void bootstrap({
  name: 'all-in-one',
  module: (config) => ({
    module: class AllInOneApp {},
    imports: [InfraModule.forRoot(config, 'aio'), HealthModule, GatewayModule.forRoot(config), ProjectorModule, ApiModule, ArchiverModule, NotifierModule],
  }),
  configure: (app, config) => {
    app.useWebSocketAdapter(new ChatSocketAdapter(app, config.CHAT_ALLOWED_ORIGINS));
    return { microservice: app.get(JetStreamTransport) };
  },
});
