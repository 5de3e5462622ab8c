import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export function createLogger(level: string, app: string): Logger {
  return pino({
    level,
    base: { app, pid: process.pid },
    // Defence in depth: a body or a token must never reach a log line, even by mistake.
    redact: { paths: ['body', '*.body', 'token', '*.token', 'auth', '*.auth', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}

/** Lets NestJS write its own lines through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    // Nest's own chatter (routes mapped, modules loaded) is debug detail for operators.
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
