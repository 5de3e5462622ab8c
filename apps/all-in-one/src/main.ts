import { join } from 'node:path';
import { loadConfigOrExit } from '@chat/config';
// The logger alone rather than @chat/platform: the supervisor loads no Nest and no drivers.
import { createLogger } from '../../../libs/platform/src/logger';
import { Supervisor } from './supervisor';

/**
 * What `npm start` and `npm run up` run: a supervisor of two processes, so that the work
 * spreads over more than one core. `front` serves everything on PORT (gateway, web
 * client, admin API, and health and metrics for both); `worker` runs the projector, the
 * notifier, the archiver and the webhooks. The configuration is checked here first, once.
 */
const config = loadConfigOrExit();
new Supervisor({
  children: [
    { name: 'front', module: join(__dirname, 'front.main.js') },
    { name: 'worker', module: join(__dirname, 'worker.main.js') },
  ],
  log: createLogger(config.CHAT_LOG_LEVEL, 'all-in-one'),
  // The front drains its sockets for up to CHAT_DRAIN_TIMEOUT on SIGTERM.
  stopDeadlineMs: config.CHAT_DRAIN_TIMEOUT + 5_000,
}).start();
