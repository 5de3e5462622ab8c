import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { registry } from './metrics';
import { NATS, PG_POOL, REDIS } from './tokens';

const CHECK_TIMEOUT_MS = 1_000;

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    work.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * `/healthz`: the process answers. `/readyz`: every dependency answers, or 503 naming those
 * that do not. `/metrics`: Prometheus text.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Prometheus text: scraped by Prometheus, read by the admin page. */
  @Get('metrics')
  @Header('content-type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const checks: Record<string, () => Promise<unknown>> = {
      nats: () => this.nc.flush(),
      postgres: () => this.pool.query('SELECT 1'),
      redis: () => this.redis.ping(),
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await within(CHECK_TIMEOUT_MS, check());
          return [name, 'up'] as const;
        } catch (err) {
          return [name, `down: ${(err as Error).message}`] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state !== 'up').map(([name]) => name);
    res.status(down.length ? 503 : 200);
    return { status: down.length ? 'unavailable' : 'ready', down, checks: Object.fromEntries(results) };
  }
}
