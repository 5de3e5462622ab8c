import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { loadConfigOrExit, type Config } from '@chat/config';
import { HardenedExpressAdapter } from './http-server';
import { PinoNestLogger } from './logger';
import { startTracing } from './tracing';
import { LOGGER, NODE_ID } from './tokens';

export interface AppShape {
  name: string;
  module: (config: Config) => DynamicModule;
  /** Attach extras before listening: the Socket.IO adapter, a microservice transport. */
  configure?: (app: NestExpressApplication, config: Config) => { microservice?: CustomTransportStrategy } | void;
  /** `false`: no HTTP listener (the all-in-one's worker, whose health and metrics its front process serves). */
  http?: boolean;
}

/**
 * Starts one app: configuration validated first (one clear line and exit 1 if it is not),
 * then the Nest application on PORT, with health, and graceful shutdown on SIGTERM/SIGINT.
 */
export async function bootstrap(shape: AppShape): Promise<NestExpressApplication> {
  const config = loadConfigOrExit();
  // Before anything opens a connection or handles a request.
  const tracing = startTracing(shape.name, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  let log: Logger | undefined;
  process.on('unhandledRejection', (err) => log?.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection'));
  try {
    const app = await NestFactory.create<NestExpressApplication>(shape.module(config), new HardenedExpressAdapter(config.CHAT_HTTP_HEADERS_TIMEOUT), { bufferLogs: true });
    log = app.get<Logger>(LOGGER);
    app.useLogger(new PinoNestLogger(log));
    if (tracing) log.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing: spans exported over OTLP/HTTP (the last half second of them is lost at exit)');
    app.disable('x-powered-by');
    app.use(requestLog(log));
    app.enableShutdownHooks();
    const extras = shape.configure?.(app, config);
    if (extras?.microservice) {
      app.connectMicroservice({ strategy: extras.microservice }, { inheritAppConfig: true });
      await app.startAllMicroservices();
    }
    const where = { node: app.get(NODE_ID), namespace: config.CHAT_NAMESPACE, partitions: config.CHAT_PARTITIONS };
    if (shape.http === false) {
      await app.init();
      log.info(where, `${shape.name} started`);
    } else {
      await app.listen(config.PORT);
      log.info({ port: config.PORT, ...where }, `${shape.name} listening on http://localhost:${config.PORT}`);
    }
    return app;
  } catch (err) {
    process.stderr.write(`${shape.name}: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

/** Paths polled all the time: logged at debug, not info. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One JSON line per HTTP request with its correlation id (`x-request-id`, taken from the
 * request or made here, and returned): method, path without the query string (which could
 * carry an identifier), status and time. Never a header or a body.
 */
function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', reqId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const line = { reqId, method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (QUIET.has(req.path)) log.debug(line, 'http');
      else log.info(line, 'http');
    });
    next();
  };
}
