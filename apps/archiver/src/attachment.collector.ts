import { Inject, Injectable } from '@nestjs/common';
import type { Names } from '@chat/messaging';
import { ATTACHMENT_OBJECTS, NAMES } from '@chat/platform';
import { AttachmentRepository, type AttachmentObjects } from '@chat/storage';

/** Objects deleted per step; a pass takes steps until nothing is left. */
const BATCH = 200;
/** S3 calls in flight at once. */
const PARALLEL = 16;

/**
 * Deletes the attachment objects nobody may fetch any more: those of deleted messages (the
 * projection queues them in attachment_deletions) and uploads never sent within
 * CHAT_ATTACHMENT_UNSENT_AGE. Objects first, rows after: a crash in between leaves rows
 * whose objects are gone, and the next pass deletes them again (S3's DELETE is idempotent).
 */
@Injectable()
export class AttachmentCollector {
  constructor(
    @Inject(NAMES) private readonly names: Names,
    @Inject(ATTACHMENT_OBJECTS) private readonly objects: AttachmentObjects,
    private readonly rows: AttachmentRepository,
  ) {}

  async collect(unsentBefore: Date): Promise<{ deleted: number; unsent: number }> {
    let deleted = 0;
    for (let batch = await this.rows.deletions(BATCH); batch.length; batch = await this.rows.deletions(BATCH)) {
      await this.deleteObjects(batch);
      await this.rows.deletionsDone(batch.map((a) => a.id));
      deleted += batch.length;
    }
    // A send that reached the log but died before marking its attachments keeps them.
    await this.rows.settleClaimed();
    let unsent = 0;
    for (let batch = await this.rows.unsentBefore(unsentBefore, BATCH); batch.length; batch = await this.rows.unsentBefore(unsentBefore, BATCH)) {
      await this.deleteObjects(batch);
      await this.rows.removeUnsent(batch.map((a) => a.id));
      unsent += batch.length;
      if (batch.length < BATCH) break;
    }
    return { deleted, unsent };
  }

  private async deleteObjects(batch: Array<{ id: string; conversationId: string }>): Promise<void> {
    for (let i = 0; i < batch.length; i += PARALLEL) {
      await Promise.all(batch.slice(i, i + PARALLEL).map((a) => this.objects.delete(this.names.attachmentKey(a.conversationId, a.id))));
    }
  }
}
