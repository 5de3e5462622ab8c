import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { CONFIG, LOGGER } from '@chat/platform';
import { ArchiveRepository, type ArchiveStep } from '@chat/storage';
import { AttachmentCollector } from './attachment.collector';

/** Crash leftovers (objects no manifest names) are removed once this old. */
const ORPHAN_AGE_MS = 10 * 60_000;
const MONTH_MS = 31 * 86_400_000;

/**
 * Moves messages down the tiers every CHAT_ARCHIVE_INTERVAL: hot -> warm past
 * CHAT_TIER_HOT_AGE, warm -> cold (S3) past CHAT_TIER_WARM_AGE; folds later edits and
 * deletes into archived blocks; keeps the hot tier's month partitions and drops emptied ones;
 * deletes the objects of deleted messages' attachments and of uploads never sent.
 */
@Injectable()
export class ArchiverService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly archive: ArchiveRepository,
    private readonly attachments: AttachmentCollector,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pass(), this.config.CHAT_ARCHIVE_INTERVAL);
    this.timer.unref();
    void this.pass();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; a pass still running when the next is due is not doubled. */
  pass(now = new Date()): Promise<void> {
    this.running ??= this.work(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async work(now: Date): Promise<void> {
    const c = this.config;
    const ago = (ms: number) => new Date(now.getTime() - ms);
    try {
      await this.archive.ensureMonthPartitions(now);
      const warmed = await this.archive.hotToWarm(ago(c.CHAT_TIER_HOT_AGE), c.CHAT_ARCHIVE_BLOCK);
      const cooled = await this.archive.warmToCold(ago(c.CHAT_TIER_WARM_AGE));
      const folded = await this.archive.foldPatches();
      const dropped = await this.archive.dropOldChangeEvents(ago(Math.max(c.CHAT_TIER_HOT_AGE, c.CHAT_SYNC_RETENTION)));
      const months = await this.archive.dropEmptyMonths(ago(c.CHAT_TIER_HOT_AGE + MONTH_MS));
      const orphans = await this.archive.collectOrphans(ago(ORPHAN_AGE_MS));
      const attachments = await this.attachments.collect(ago(c.CHAT_ATTACHMENT_UNSENT_AGE));
      if (warmed || cooled || folded || dropped || months.length || orphans || attachments.deleted || attachments.unsent) {
        this.log.info({ warmed, cooled, folded, dropped, months, orphans, attachments }, 'archive pass');
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'archive pass failed; the next one retries');
    }
  }
}

/** Test hook (CHAT_TEST_ARCHIVER_CRASH): die at a step of a move, as a crash would. */
export function crashHook(step: ArchiveStep | undefined): (at: ArchiveStep) => void {
  return (at) => {
    if (at !== step) return;
    writeSync(2, `test hook: archiver crashing at ${at}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
