import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AckResults, ClientPayload } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { Config } from '@chat/config';
import type { AttachmentRef } from '@chat/domain';
import type { Names } from '@chat/messaging';
import { ATTACHMENT_OBJECTS, CONFIG, NAMES } from '@chat/platform';
import { AttachmentRepository, type AttachmentObjects, type ConversationRecord } from '@chat/storage';
import type { Caller } from './commands.service';
import { ConversationCache } from './conversation.cache';
import { requireMember } from './membership.guard';

/**
 * Attachments: grants uploads (a row, then a presigned PUT), checks them for a send, and
 * signs downloads. The bytes never pass through here; only sends with attachments pay for
 * any of it.
 */
@Injectable()
export class AttachmentsService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NAMES) private readonly names: Names,
    @Inject(ATTACHMENT_OBJECTS) private readonly objects: AttachmentObjects,
    private readonly rows: AttachmentRepository,
    private readonly conversations: ConversationCache,
  ) {}

  /** A pending attachment of the caller in a conversation it is a member of, and its upload URL. */
  async create(caller: Caller, p: ClientPayload<'attachment:create'>): Promise<AckResults['attachment:create']> {
    if (p.size > this.config.CHAT_MAX_ATTACHMENT_BYTES) {
      throw new ChatError('PAYLOAD_TOO_LARGE', `size: an attachment is at most ${mebibytes(this.config.CHAT_MAX_ATTACHMENT_BYTES)} (${this.config.CHAT_MAX_ATTACHMENT_BYTES} bytes)`);
    }
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    const id = randomUUID();
    // Signed first: a refusal of the signer writes no row.
    const put = await this.objects.presignPut(this.names.attachmentKey(c.id, id), p.contentType, p.size);
    await this.rows.create({ id, conversationId: c.id, ownerId: caller.userId, name: p.name, contentType: p.contentType, size: p.size });
    return { attachmentId: id, uploadUrl: put.url, uploadHeaders: put.headers, expiresAt: put.expiresAt };
  }

  /**
   * The attachments of a send, checked: each the caller's, of this conversation, not taken
   * by another send, and uploaded with its declared size (one HEAD each, in parallel).
   * Anything else is BAD_REQUEST, and nothing is written.
   */
  async check(caller: Caller, c: ConversationRecord, ids: string[], clientMsgId: string): Promise<AttachmentRef[]> {
    const rows = await this.rows.get(ids);
    const refs: AttachmentRef[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      // Unknown and someone else's read alike: ids tell a stranger nothing.
      if (!row || row.ownerId !== caller.userId) throw new ChatError('BAD_REQUEST', `attachments: ${id} is not one of your attachments`);
      if (row.conversationId !== c.id) throw new ChatError('BAD_REQUEST', `attachments: ${id} belongs to another conversation`);
      if (row.clientMsgId !== null && row.clientMsgId !== clientMsgId) throw new ChatError('BAD_REQUEST', `attachments: ${id} was sent with another message`);
      refs.push({ id, name: row.name, contentType: row.contentType, size: row.size });
    }
    const sizes = await Promise.all(refs.map((a) => this.objects.size(this.names.attachmentKey(c.id, a.id))));
    refs.forEach((a, i) => {
      const size = sizes[i];
      if (size === undefined) throw new ChatError('BAD_REQUEST', `attachments: ${a.id} was not uploaded`);
      if (size !== a.size) throw new ChatError('BAD_REQUEST', `attachments: ${a.id} is ${size} bytes, not the ${a.size} declared`);
    });
    return refs;
  }

  /** Just before the append: the send takes its attachments, so that no other send can (its own retry still may). */
  async claim(caller: Caller, c: ConversationRecord, ids: string[], clientMsgId: string): Promise<void> {
    if ((await this.rows.claim(ids, caller.userId, c.id, clientMsgId)) !== ids.length) {
      throw new ChatError('BAD_REQUEST', 'attachments: one of them was sent with another message meanwhile');
    }
  }

  /** After the append (or a duplicate's answer): sent with the message at `seq`, never collected. */
  markSent(ids: string[], seq: number): Promise<void> {
    return this.rows.markSent(ids, seq);
  }

  /**
   * A presigned GET for a member of the conversation: of a sent attachment for any member,
   * of one not sent yet for its owner only (its own preview). A removed member is FORBIDDEN;
   * an unknown id, one of another conversation or of a deleted message, NOT_FOUND.
   */
  async url(caller: Caller, p: ClientPayload<'attachment:url'>): Promise<AckResults['attachment:url']> {
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    const row = (await this.rows.get([p.attachmentId])).get(p.attachmentId);
    // Taken by a send (clientMsgId set) counts as sent: members may get the message from the
    // log a moment before its sender has marked the row.
    const shared = row !== undefined && (row.sentSeq !== null || row.clientMsgId !== null);
    if (!row || row.conversationId !== c.id || (!shared && row.ownerId !== caller.userId) || (await this.rows.deleted(row.id))) {
      throw new ChatError('NOT_FOUND', 'no such attachment in this conversation');
    }
    const get = await this.objects.presignGet(this.names.attachmentKey(c.id, row.id), row.name, row.contentType);
    return { url: get.url, expiresAt: get.expiresAt };
  }
}

/** 26214400 -> '25 MiB': the limit as the person who picked the file reads it. */
function mebibytes(bytes: number): string {
  const mib = bytes / 1_048_576;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}
