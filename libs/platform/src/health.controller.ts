import { Controller, Get, Header, Inject, Optional, Res } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { AggregatorRegistry } from 'prom-client';
import type { HttpAnswer } from '@chat/contracts';
import { checkDependencies } from './dependency.checks';
import { registry } from './metrics';
import { SIBLINGS, type SiblingProcesses, type SiblingReadiness } from './sibling.processes';
import { NATS, PG_POOL, REDIS } from './tokens';

/**
 * `/healthz`: the process answers. `/readyz`: every dependency answers, or 503 naming those
 * that do not. `/metrics`: Prometheus text. With siblings (the all-in-one's worker), all
 * three answer for them too: a sibling is a check of its own, its dependency checks count
 * with this process's, and its metrics are summed with these (prom-client's cluster
 * aggregation).
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() @Inject(SIBLINGS) private readonly siblings?: SiblingProcesses,
  ) {}

  @Get('healthz')
  async healthz(@Res({ passthrough: true }) res: Response): Promise<HttpAnswer<'healthz'> | HttpAnswer<'healthDown'>> {
    const siblings = this.siblings ? await this.siblings.alive() : {};
    const down = Object.entries(siblings).filter(([, state]) => state !== 'up').map(([name]) => name);
    if (!down.length) return { status: 'ok' };
    res.status(503);
    return { status: 'unavailable', down, checks: siblings };
  }

  /** Prometheus text: scraped by Prometheus, read by the admin page. */
  @Get('metrics')
  @Header('content-type', registry.contentType)
  async metrics(): Promise<string> {
    if (!this.siblings) return registry.metrics();
    const [own, theirs] = await Promise.all([registry.getMetricsAsJSON(), this.siblings.metrics()]);
    return AggregatorRegistry.aggregate([own, ...theirs]).metrics();
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response): Promise<HttpAnswer<'readyz'>> {
    const none: Record<string, SiblingReadiness> = {};
    const [checks, siblings] = await Promise.all([checkDependencies(this.nc, this.pool, this.redis), this.siblings?.readiness() ?? none]);
    for (const [name, report] of Object.entries(siblings)) {
      if (typeof report === 'string') {
        checks[name] = report;
        continue;
      }
      checks[name] = 'up';
      // A dependency is down when any process finds it down: the first finding is kept.
      for (const [dependency, state] of Object.entries(report)) {
        if (state !== 'up' && (checks[dependency] ?? 'up') === 'up') checks[dependency] = `${state} (${name})`;
      }
    }
    const down = Object.entries(checks).filter(([, state]) => state !== 'up').map(([name]) => name);
    res.status(down.length ? 503 : 200);
    return { status: down.length ? 'unavailable' : 'ready', down, checks };
  }
}
