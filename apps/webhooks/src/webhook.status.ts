import type { Logger } from 'pino';
import type { z } from 'zod';
import type { RedisClient } from '@chat/connections';
import type { webhookReportSchema } from '@chat/contracts';
import type { Names } from '@chat/messaging';

/**
 * What the sender reports of one partition (the consumer itself tells position and lag), as
 * `GET /v1/admin/webhooks` shows it; its schema is the answer's, in the contracts.
 */
export type PartitionReport = z.infer<typeof webhookReportSchema>;

/** How often reports are written when something changed. */
const FLUSH_MS = 1_000;

/**
 * The webhook sender's reports, kept in memory and written to Redis (one hash, a field per
 * partition) at most once a second, for `GET /v1/admin/webhooks` wherever the API runs.
 * A report is a view, not state: losing one loses nothing but the view.
 */
export class StatusBoard {
  private readonly reports = new Map<number, Omit<PartitionReport, 'reportedAt' | 'retrying'> & { failing: Set<number> }>();
  private readonly dirty = new Set<number>();
  private timer?: NodeJS.Timeout;
  private warnedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly names: Names,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(partitions: number[]): void {
    for (const p of partitions) this.touch(p);
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  delivered(partition: number, seq: number): void {
    const r = this.touch(partition);
    r.failing.delete(seq);
    r.lastDeliveredAt = this.now().toISOString();
  }

  failed(partition: number, conversationId: string, seq: number, message: string, attempts: number): void {
    const r = this.touch(partition);
    r.failing.add(seq);
    r.lastError = { message, at: this.now().toISOString(), conversationId, seq, attempts };
  }

  /** The event is no longer tried here (its consumer was reset): it no longer counts as retrying. */
  dropped(partition: number, seq: number): void {
    this.touch(partition).failing.delete(seq);
  }

  private touch(partition: number) {
    let r = this.reports.get(partition);
    if (!r) this.reports.set(partition, (r = { failing: new Set() }));
    this.dirty.add(partition);
    return r;
  }

  private async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const at = this.now().toISOString();
    const fields: Record<string, string> = {};
    for (const p of this.dirty) {
      const { failing, ...r } = this.reports.get(p)!;
      fields[String(p)] = JSON.stringify({ ...r, retrying: failing.size, reportedAt: at } satisfies PartitionReport);
    }
    this.dirty.clear();
    try {
      await this.redis.hset(this.names.webhookStatusKey(), fields);
    } catch (err) {
      // Written again with the next change; deliveries do not wait for the view.
      for (const p of Object.keys(fields)) this.dirty.add(Number(p));
      // Once a minute at most while Redis is away: the flush is tried every second.
      if (Date.now() - this.warnedAt >= 60_000) {
        this.warnedAt = Date.now();
        this.log.warn({ err: (err as Error).message }, 'writing the webhook status failed; the admin route shows older reports meanwhile');
      }
    }
  }
}

/** The reports of every partition that has one, for the admin API. */
export async function readWebhookStatus(redis: RedisClient, names: Names): Promise<Map<number, PartitionReport>> {
  const fields = await redis.hgetall(names.webhookStatusKey());
  const out = new Map<number, PartitionReport>();
  for (const [p, json] of Object.entries(fields)) {
    try {
      out.set(Number(p), JSON.parse(json) as PartitionReport);
    } catch {
      // not a report: ignored
    }
  }
  return out;
}
