import 'reflect-metadata';
import { trustedOrigins } from '@chat/config';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { ApiModule } from '../../api/src/api.module';
import { GatewayModule } from '../../gateway/src/gateway.module';
import { ChatSocketAdapter } from '../../gateway/src/socket-io.adapter';
import { SupervisorLink } from './supervisor.link';
import { WorkerSibling } from './worker.sibling';

/** The all-in-one's front process: everything served on PORT (gateway, web client, admin API, health for both processes). */
const link = new SupervisorLink('front');
void bootstrap({
  name: 'all-in-one front',
  module: (config) => ({
    module: class AllInOneFront {},
    imports: [InfraModule.forRoot(config, 'aio-front'), HealthModule.withSiblings(new WorkerSibling(link)), GatewayModule.forRoot(config), ApiModule],
  }),
  configure: (app, config) => {
    app.useWebSocketAdapter(new ChatSocketAdapter(app, trustedOrigins(config), config.CHAT_ALLOWED_ORIGINS));
  },
}).then(() => link.started());
