import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { AckResults, ClientPayload } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { Config } from '@chat/config';
import {
  decide, evolve, messageRef, OPERATOR, roleOf, sendRestriction,
  type Conversation, type ConversationCommand, type ConversationEvent, type Decision, type LastSend, type MessageRef, type MessageSent,
} from '@chat/domain';
import { appendEvent, ProjectionWatch, type LogPublisher, type Names } from '@chat/messaging';
import { CONFIG, JETSTREAM_MANAGER, LOG_PUBLISHER, NAMES, TIERED } from '@chat/platform';
import { directKey, ReadModelRepository, toConversationInfo, type ConversationRecord, type TieredMessages } from '@chat/storage';
import { AttachmentsService } from './attachments.service';
import { ConversationCache } from './conversation.cache';
import { directConversationId, groupConversationId } from './ids';
import { requireMember } from './membership.guard';
import { OwnSends } from './own.sends';
import { SendDeduplicator } from './send.deduplicator';
import { ThreadRoots } from './thread.roots';

/** How long a membership change waits for its projection before answering anyway. */
const PROJECTION_WAIT_MS = 5_000;
/** How long an edit, delete, reaction or reply waits for its target message to be projected. */
const TARGET_WAIT_MS = 2_000;

/**
 * Whom a command is carried out for: a socket's user, the user the server API acts as, or
 * OPERATOR (the admin API's moderation routes).
 */
export interface Caller {
  userId: string;
  /**
   * `nodeId/socketId` of the socket that sent the command: live delivery skips it, since it
   * has the answer. None from the server API: every device of the user gets the event.
   */
  origin?: string;
  /** Told the seq each command was acked with: a socket's next queries show it (read-your-writes). */
  writes?: { note(partition: number, seq: number): void };
}

/**
 * The commands of the socket gateway and of the server API, one set of rules for both:
 * check against the read model, decide with the domain rules, append to the log, answer
 * with the log's sequence.
 */
@Injectable()
export class CommandsService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NAMES) private readonly names: Names,
    @Inject(LOG_PUBLISHER) private readonly log: LogPublisher,
    private readonly readModel: ReadModelRepository,
    private readonly conversations: ConversationCache,
    private readonly watch: ProjectionWatch,
    private readonly sends: SendDeduplicator,
    @Inject(TIERED) private readonly tiered: TieredMessages,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    private readonly roots: ThreadRoots,
    private readonly ownSends: OwnSends,
    private readonly attachments: AttachmentsService,
  ) {}

  async create(caller: Caller, p: ClientPayload<'conversation:create'>): Promise<AckResults['conversation:create']> {
    const members = [...new Set([caller.userId, ...p.members])];
    if (p.type === 'group' && members.length > this.config.CHAT_MAX_GROUP_MEMBERS) {
      throw new ChatError('PAYLOAD_TOO_LARGE', `a group has at most ${this.config.CHAT_MAX_GROUP_MEMBERS} members`);
    }
    if (p.type === 'group' && p.members.length > 1000) {
      throw new ChatError('PAYLOAD_TOO_LARGE', 'create a group with at most 1000 members, then add the rest with conversation:add_members');
    }
    let id: string;
    if (p.type === 'direct') {
      if (members.length !== 2) throw new ChatError('BAD_REQUEST', 'members: a direct conversation has exactly one other user');
      const key = directKey(members);
      const existing = await this.readModel.directConversationId(key);
      if (existing) return { conversation: toConversationInfo(await this.known(existing)) };
      id = directConversationId(key, this.config.CHAT_ID_SECRET);
    } else {
      id = groupConversationId();
    }
    const partition = this.names.partitionFor(id);
    const at = new Date().toISOString();
    const [event] = accepted(
      decide({ type: 'CreateConversation', conversationId: id, kind: p.type, creator: caller.userId, members, at, ...(p.title !== undefined && { title: p.title }) }, undefined),
    );
    const appended = await appendEvent(this.log, this.names, partition, event!, { msgId: this.names.createMsgId(id), origin: caller.origin });
    caller.writes?.note(partition, appended.seq);
    await this.watch.waitFor(partition, appended.seq, PROJECTION_WAIT_MS);
    // A racing create of the same direct pair may have won; the read model says which.
    const stored = await this.conversations.refresh(id);
    if (stored) return { conversation: toConversationInfo(stored) };
    const fresh = { ...evolve(undefined, event!, appended.seq), partition };
    this.conversations.put(fresh);
    return { conversation: toConversationInfo(fresh) };
  }

  async addMembers(caller: Caller, p: ClientPayload<'conversation:add_members'>): Promise<AckResults['conversation:add_members']> {
    const c = requireMember(await this.conversations.refresh(p.conversationId), caller.userId);
    if (c.members.size + p.userIds.length > this.config.CHAT_MAX_GROUP_MEMBERS) {
      const fresh = p.userIds.filter((u) => !c.members.has(u)).length;
      if (c.members.size + fresh > this.config.CHAT_MAX_GROUP_MEMBERS) {
        throw new ChatError('PAYLOAD_TOO_LARGE', `a group has at most ${this.config.CHAT_MAX_GROUP_MEMBERS} members`);
      }
    }
    return this.changeMembers(caller, c, { type: 'AddMembers', conversationId: p.conversationId, by: caller.userId, userIds: p.userIds, at: new Date().toISOString() });
  }

  async removeMembers(caller: Caller, p: ClientPayload<'conversation:remove_members'>): Promise<AckResults['conversation:remove_members']> {
    const c = await this.actor(caller, p.conversationId, true);
    return this.changeMembers(caller, c, { type: 'RemoveMembers', conversationId: p.conversationId, by: caller.userId, userIds: p.userIds, at: new Date().toISOString() });
  }

  async send(caller: Caller, p: ClientPayload<'message:send'>): Promise<AckResults['message:send']> {
    let c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    // The cached lastSeq may be older than the message replied to or the thread's root (sent
    // a moment ago, maybe not projected yet): once the projection has reached it, read the
    // conversation again before calling it NOT_FOUND. Other sends wait for nothing.
    const newest = Math.max(p.replyToSeq ?? 0, p.threadRootSeq ?? 0);
    if (newest > c.lastSeq) {
      await this.watch.waitFor(c.partition, newest, TARGET_WAIT_MS);
      c = requireMember(await this.conversations.refresh(p.conversationId), caller.userId);
    }
    const root = p.threadRootSeq === undefined ? undefined : await this.threadRoot(c, p.threadRootSeq);
    // Only a send with attachments pays for them (a row read, a HEAD each, two updates).
    const attached = p.attachments?.length ? await this.attachments.check(caller, c, p.attachments, p.clientMsgId) : undefined;
    const at = new Date().toISOString();
    let state: Conversation = await this.withLastSend(c, caller.userId, at);
    const restricted = sendRestriction(state, caller.userId, at);
    if (restricted) {
      // A resend of a message sent before the mute or the window answers as a resend does.
      const [original] = (await this.readModel.sentMessages([{ senderId: caller.userId, clientMsgId: p.clientMsgId }])).values();
      if (original?.conversationId === c.id) {
        caller.writes?.note(c.partition, original.seq);
        return { seq: original.seq, sentAt: original.sentAt, duplicate: true };
      }
      // The send this process is still appending, again: the log's duplicate window answers it.
      if (this.ownSends.get(c.id, caller.userId)?.clientMsgId !== p.clientMsgId) throw new ChatError(restricted.code, restricted.reason, restricted.retryAfterMs);
      state = c;
    }
    const decision = decide(
      {
        type: 'SendMessage', conversationId: p.conversationId, senderId: caller.userId, clientMsgId: p.clientMsgId, body: p.body, at,
        ...(p.replyToSeq !== undefined && { replyToSeq: p.replyToSeq }),
        ...(p.threadRootSeq !== undefined && { threadRootSeq: p.threadRootSeq }),
        ...(p.mentions !== undefined && { mentions: p.mentions }),
        ...(attached && { attachments: attached }),
      },
      state,
      root,
    );
    const [event] = accepted(decision);
    if (attached) await this.attachments.claim(caller, c, p.attachments!, p.clientMsgId);
    // Noted before the append: a second send racing this one through this process waits its turn.
    const slow = c.slowMode;
    if (slow) this.ownSends.note(c.id, caller.userId, { at, clientMsgId: p.clientMsgId, slowModeSeq: slow.seq });
    let ack: AckResults['message:send'];
    try {
      ack = await this.sends.send(c.partition, event as MessageSent, caller.origin);
    } catch (err) {
      if (slow) this.ownSends.forget(c.id, caller.userId, p.clientMsgId);
      throw err;
    }
    if (slow && ack.duplicate) this.ownSends.note(c.id, caller.userId, { at: ack.sentAt, clientMsgId: p.clientMsgId, slowModeSeq: slow.seq });
    if (attached) await this.attachments.markSent(p.attachments!, ack.seq);
    caller.writes?.note(c.partition, ack.seq);
    return ack;
  }

  /**
   * In slow mode, the state with the caller's last send since slow mode was set: this
   * process's own (which the read model may not have yet), else the read model's (one
   * probe of timeline_senders). The owner and moderators are exempt and cost nothing.
   */
  private async withLastSend(c: ConversationRecord, userId: string, at: string): Promise<Conversation> {
    if (!c.slowMode || roleOf(c, userId) !== 'member') return c;
    const own = this.ownSends.get(c.id, userId, Date.parse(at));
    // Sent under an earlier slow mode (or off since): it does not count under this one.
    let last: LastSend | undefined = own && own.slowModeSeq === c.slowMode.seq ? { seq: 0, at: own.at } : undefined;
    const window = c.slowMode.seconds * 1000;
    // Within the window already by this process's memory: no need to ask.
    if (!last || Date.parse(at) - Date.parse(last.at) >= window) {
      const stored = await this.readModel.lastSend(c.id, userId, c.slowMode.seq);
      if (stored && (!last || Date.parse(stored.at) > Date.parse(last.at))) last = stored;
    }
    return last ? { ...c, lastSends: new Map([[userId, last]]) } : c;
  }

  async edit(caller: Caller, p: ClientPayload<'message:edit'>): Promise<AckResults['message:edit']> {
    return this.changeMessage(caller, p.conversationId, p.seq, (at) => ({ type: 'EditMessage', conversationId: p.conversationId, by: caller.userId, targetSeq: p.seq, body: p.body, at }));
  }

  /** The author, a group's owner or moderators, or OPERATOR. */
  async delete(caller: Caller, p: ClientPayload<'message:delete'>): Promise<AckResults['message:delete']> {
    this.roots.forget(p.conversationId, p.seq);
    return this.changeMessage(caller, p.conversationId, p.seq, (at) => ({ type: 'DeleteMessage', conversationId: p.conversationId, by: caller.userId, targetSeq: p.seq, at }));
  }

  /** The owner gives or takes a member's moderator role. */
  async setRole(caller: Caller, p: ClientPayload<'conversation:set_role'>): Promise<AckResults['conversation:set_role']> {
    const c = await this.actor(caller, p.conversationId, true);
    return this.changeConversation(caller, c, { type: 'SetRole', conversationId: c.id, by: caller.userId, userId: p.userId, role: p.role, at: new Date().toISOString() });
  }

  /** The owner, a moderator or OPERATOR mutes a member, until `until` or until unmuted. */
  async mute(caller: Caller, p: ClientPayload<'conversation:mute_member'>): Promise<AckResults['conversation:mute_member']> {
    const c = await this.actor(caller, p.conversationId, true);
    return this.changeConversation(caller, c, {
      type: 'MuteMember', conversationId: c.id, by: caller.userId, userId: p.userId, at: new Date().toISOString(),
      ...(p.until !== undefined && { until: new Date(p.until).toISOString() }),
    });
  }

  async unmute(caller: Caller, p: ClientPayload<'conversation:unmute_member'>): Promise<AckResults['conversation:unmute_member']> {
    const c = await this.actor(caller, p.conversationId, true);
    return this.changeConversation(caller, c, { type: 'UnmuteMember', conversationId: c.id, by: caller.userId, userId: p.userId, at: new Date().toISOString() });
  }

  async setSlowMode(caller: Caller, p: ClientPayload<'conversation:set_slow_mode'>): Promise<AckResults['conversation:set_slow_mode']> {
    const c = await this.actor(caller, p.conversationId, true);
    return this.changeConversation(caller, c, { type: 'SetSlowMode', conversationId: c.id, by: caller.userId, seconds: p.seconds, at: new Date().toISOString() });
  }

  /**
   * A member reports another's message to the operators (GET /v1/admin/reports). Answered
   * once the log has it: nothing a member sees waits on it. Reporting a message again is
   * kept as the first report.
   */
  async report(caller: Caller, p: ClientPayload<'message:report'>): Promise<AckResults['message:report']> {
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    const [event] = accepted(decide(
      { type: 'ReportMessage', conversationId: c.id, by: caller.userId, targetSeq: p.seq, reason: p.reason, at: new Date().toISOString() },
      c,
      await this.target(c, p.seq),
    ));
    const { seq } = await appendEvent(this.log, this.names, c.partition, event!, { origin: caller.origin });
    caller.writes?.note(c.partition, seq);
    return {};
  }

  async react(caller: Caller, p: ClientPayload<'reaction:add'>, op: 'add' | 'remove'): Promise<AckResults['reaction:add']> {
    return this.changeMessage(caller, p.conversationId, p.seq, (at) => ({
      type: op === 'add' ? 'AddReaction' : 'RemoveReaction', conversationId: p.conversationId, userId: caller.userId, targetSeq: p.seq, emoji: p.emoji, at,
    }));
  }

  /**
   * A read marker moves forward only; `lastSent` is the caller's connection's last marker
   * for the conversation, so repeating one costs no append (the projector drops the rest).
   */
  async read(caller: Caller, p: ClientPayload<'read'>, lastSent: Map<string, number>): Promise<AckResults['read']> {
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    const [event] = accepted(decide({ type: 'MarkRead', conversationId: p.conversationId, userId: caller.userId, seq: p.seq, at: new Date().toISOString() }, c));
    if (p.seq <= (lastSent.get(p.conversationId) ?? 0)) return {};
    const { seq } = await appendEvent(this.log, this.names, c.partition, event!, { origin: caller.origin });
    caller.writes?.note(c.partition, seq);
    lastSent.set(p.conversationId, p.seq);
    return {};
  }

  /** The caller's own notification setting for a conversation: an event in the log, so its other devices get it. */
  async notify(caller: Caller, p: ClientPayload<'conversation:notify'>): Promise<AckResults['conversation:notify']> {
    const c = requireMember(await this.conversations.get(p.conversationId), caller.userId);
    const [event] = accepted(decide({
      type: 'SetNotify', conversationId: p.conversationId, userId: caller.userId, level: p.level, at: new Date().toISOString(),
      ...(p.muteUntil !== undefined && { muteUntil: new Date(p.muteUntil).toISOString() }),
    }, c));
    return { seq: await this.appendConfirmed(caller, c, event!) };
  }

  /**
   * The root a reply goes to. A seq of another conversation of the same log (seqs are per
   * partition) is BAD_REQUEST; one that is no message at all, NOT_FOUND (decide).
   */
  private async threadRoot(c: ConversationRecord, seq: number): Promise<MessageRef | undefined> {
    const known = this.roots.get(c.id, seq);
    if (known) return known;
    const ref = await this.target(c, seq);
    if (ref) this.roots.remember(c.id, seq, ref);
    else if (await this.ofAnotherConversation(c, seq)) throw new ChatError('BAD_REQUEST', 'threadRootSeq: a message of another conversation');
    return ref;
  }

  private async ofAnotherConversation(c: ConversationRecord, seq: number): Promise<boolean> {
    const entry = await this.jsm.streams.getMessage(this.names.stream(c.partition), { seq }).catch(() => null);
    return entry !== null && this.names.conversationOf(entry.subject) !== c.id;
  }

  /** Edits, deletes and reactions: checked against the target message as the read model has it. */
  private async changeMessage(caller: Caller, conversationId: string, targetSeq: number, command: (at: string) => ConversationCommand): Promise<{ seq: number }> {
    const c = await this.actor(caller, conversationId);
    const decision = decide(command(new Date().toISOString()), c, await this.target(c, targetSeq));
    const events = accepted(decision);
    // Already so (a reaction twice): nothing appended; answer with the conversation's end.
    if (events.length === 0) return { seq: (await this.conversations.refresh(conversationId))?.lastSeq ?? c.lastSeq };
    return { seq: await this.appendConfirmed(caller, c, events[0]!) };
  }

  /** The target as projected; a message sent a moment ago may still be on its way there. */
  private async target(c: ConversationRecord, seq: number): Promise<MessageRef | undefined> {
    const read = async () => (await this.tiered.at(c.id, [seq])).get(seq);
    let m = await read();
    if (!m && (await this.watch.waitFor(c.partition, seq, TARGET_WAIT_MS))) m = await read();
    return messageRef(m);
  }

  /**
   * The conversation, for a member; for OPERATOR, whatever its membership (an unknown one
   * is NOT_FOUND: the operator may read every conversation anyway). `fresh`: read from the
   * read model rather than the cache (commands whose rules depend on roles and membership).
   */
  private async actor(caller: Caller, conversationId: string, fresh = false): Promise<ConversationRecord> {
    const c = await (fresh ? this.conversations.refresh(conversationId) : this.conversations.get(conversationId));
    if (caller.userId !== OPERATOR) return requireMember(c, caller.userId);
    if (!c) throw new ChatError('NOT_FOUND', 'no such conversation');
    return c;
  }

  /** Roles, mutes, slow mode: confirmed like membership changes; already so is a no-op answered with the conversation's end. */
  private async changeConversation(caller: Caller, c: ConversationRecord, cmd: ConversationCommand): Promise<{ seq: number }> {
    const events = accepted(decide(cmd, c));
    if (events.length === 0) return { seq: c.lastSeq };
    const seq = await this.appendConfirmed(caller, c, events[0]!);
    this.conversations.invalidate(c.id);
    return { seq };
  }

  private async changeMembers(caller: Caller, c: ConversationRecord, cmd: ConversationCommand): Promise<{ seq: number }> {
    const events = accepted(decide(cmd, c));
    if (events.length === 0) return { seq: c.lastSeq };
    const seq = await this.appendConfirmed(caller, c, events[0]!);
    this.conversations.invalidate(c.id);
    return { seq };
  }

  /**
   * Appends, then answers once the projection has applied the event, with the verdict the
   * rules gave at its place in the log: the caller's next command sees its effect, and a
   * change that lost a race (a message deleted meanwhile) is refused rather than acked.
   * If the projection is slow, the answer comes after PROJECTION_WAIT_MS all the same.
   */
  private async appendConfirmed(caller: Caller, c: ConversationRecord, event: ConversationEvent): Promise<number> {
    const { seq } = await appendEvent(this.log, this.names, c.partition, event, { origin: caller.origin });
    caller.writes?.note(c.partition, seq);
    if (!(await this.watch.waitFor(c.partition, seq, PROJECTION_WAIT_MS))) return seq;
    const refused = await this.readModel.rejection(c.partition, seq);
    // CONFLICT and NO_CHANGE mean "already so": an idempotent success.
    if (refused && (refused.code === 'NOT_FOUND' || refused.code === 'FORBIDDEN' || refused.code === 'BAD_REQUEST' || refused.code === 'PAYLOAD_TOO_LARGE')) {
      throw new ChatError(refused.code, refused.reason);
    }
    return seq;
  }

  private async known(id: string): Promise<ConversationRecord> {
    const c = await this.conversations.get(id);
    if (!c) throw new ChatError('UNAVAILABLE', 'conversation is being created; retry');
    return c;
  }

}

/** The events of an accepted decision; a refusal becomes the client's error. */
function accepted(decision: Decision): ConversationEvent[] {
  if (decision.ok) return decision.events;
  const { code, reason, retryAfterMs } = decision.rejection;
  throw new ChatError(code === 'CONFLICT' ? 'BAD_REQUEST' : code, reason, retryAfterMs);
}
