import 'reflect-metadata';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { GatewayModule } from './gateway.module';
import { ChatSocketAdapter } from './socket-io.adapter';

void bootstrap({
  name: 'gateway',
  module: (config) => ({ module: class GatewayApp {}, imports: [InfraModule.forRoot(config, 'gateway'), HealthModule, GatewayModule.forRoot(config)] }),
  configure: (app, config) => {
    app.useWebSocketAdapter(new ChatSocketAdapter(app, config.CHAT_ALLOWED_ORIGINS));
  },
});
