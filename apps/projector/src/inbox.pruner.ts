import type { Logger } from 'pino';
import type { ProjectionRepository } from '@chat/storage';

/**
 * Keeps inbox rows for CHAT_SYNC_RETENTION: older cursors get a snapshot (reset: true).
 * Runs a few times per retention period, at least every hour, at most every second.
 */
export class InboxPruner {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: ProjectionRepository,
    private readonly retentionMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    const every = Math.min(3_600_000, Math.max(1_000, Math.floor(this.retentionMs / 4)));
    this.timer = setInterval(() => void this.run(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async run(now = new Date()): Promise<void> {
    try {
      const moved = await this.repository.pruneInbox(now, new Date(now.getTime() - this.retentionMs));
      if (moved.size) this.log.info({ horizons: Object.fromEntries(moved) }, 'inbox pruned past the sync retention');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'inbox pruning failed; will try again');
    }
  }
}
