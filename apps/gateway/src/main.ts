import 'reflect-metadata';
import { trustedOrigins } from '@chat/config';
import { HealthModule, InfraModule, bootstrap } from '@chat/platform';
import { GatewayModule } from './gateway.module';
import { ChatSocketAdapter } from './socket-io.adapter';

void bootstrap({
  name: 'gateway',
  module: (config) => ({ module: class GatewayApp {}, imports: [InfraModule.forRoot(config, 'gateway'), HealthModule, GatewayModule.forRoot(config)] }),
  configure: (app, config) => {
    app.useWebSocketAdapter(new ChatSocketAdapter(app, trustedOrigins(config), config.CHAT_ALLOWED_ORIGINS));
  },
});
