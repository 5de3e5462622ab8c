import type { Message } from '@chat/contracts';

/**
 * A model of one group conversation under the rules of docs/protocol.md: who is a member
 * when, each message's author and folded state, and what each command must be answered.
 * The fuzzed sequences (test/faults/fuzz-sequences.fault-spec.ts) compare a real system
 * with it after every step.
 */
export type Role = 'owner' | 'member' | 'leaver' | 'stranger';
export const ROLES: readonly Role[] = ['owner', 'member', 'leaver', 'stranger'];

/** What the server must answer: ok (with or without a new event in the log), or a refusal with one of `codes`. */
export type Expected = { ok: true; appends: boolean } | { ok: false; codes: readonly string[] };

/** What a non-member gets: main answers FORBIDDEN for a conversation that exists and NOT_FOUND for one that does not. */
export const REFUSED_TO_OUTSIDERS = ['FORBIDDEN', 'NOT_FOUND'] as const;

interface ModelMessage {
  seq: number;
  senderId: string;
  clientMsgId: string;
  body: string;
  deleted: boolean;
  edited: boolean;
  reactions: Map<string, Set<string>>;
}

/** [from, to]: the seqs of the events that made the user a member and ended it (inclusive both). */
export type Period = { from: number; to?: number };

export class ConversationModel {
  readonly members = new Set<string>();
  readonly periods = new Map<string, Period[]>();
  readonly messages = new Map<number, ModelMessage>();
  /** Every seq of the log this model knows of for the conversation (not read markers: their acks carry none). */
  readonly seqs: number[] = [];
  /** `lastSeq` as the server defines it: the last event that is not a read marker. */
  lastSeq: number;
  /** Events the log must have gained since the conversation was created (creation excluded). */
  appended = 0;
  /** Events of lost races that may or may not have reached the log (refused by the gateway, or by the projector). */
  refusedMaybe = 0;
  private readonly lastReadSent = new Map<string, number>();
  private nextId = 0;

  constructor(
    readonly id: string,
    readonly createdBy: string,
    members: string[],
    createdSeq: number,
    readonly run: number,
  ) {
    for (const u of members) this.join(u, createdSeq);
    this.lastSeq = createdSeq;
    this.seqs.push(createdSeq);
  }

  isMember(userId: string): boolean {
    return this.members.has(userId);
  }

  /** A fresh clientMsgId, unique across runs. */
  clientMsgId(): string {
    return `r${this.run}-${this.nextId++}`;
  }

  freshUser(): string {
    return `fresh_${this.run}_${this.nextId++}`;
  }

  // -- predictions: what the server must answer, given the model's state ---------------

  send(actor: string): Expected {
    return this.isMember(actor) ? { ok: true, appends: true } : { ok: false, codes: REFUSED_TO_OUTSIDERS };
  }

  edit(actor: string, seq: number): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    const m = this.messages.get(seq);
    if (!m || m.deleted) return { ok: false, codes: ['NOT_FOUND'] };
    return m.senderId === actor ? { ok: true, appends: true } : { ok: false, codes: ['FORBIDDEN'] };
  }

  delete(actor: string, seq: number): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    const m = this.messages.get(seq);
    if (!m || m.deleted) return { ok: false, codes: ['NOT_FOUND'] };
    // The author, or in a group its creator (while a member).
    return m.senderId === actor || actor === this.createdBy ? { ok: true, appends: true } : { ok: false, codes: ['FORBIDDEN'] };
  }

  react(actor: string, seq: number, emoji: string, add: boolean): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    const m = this.messages.get(seq);
    if (!m || m.deleted) return { ok: false, codes: ['NOT_FOUND'] };
    const has = m.reactions.get(emoji)?.has(actor) ?? false;
    // Twice, or removing what is not there: an idempotent no-op.
    return { ok: true, appends: add !== has };
  }

  read(actor: string, seq: number): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    // The gateway appends a marker only past the last one this connection sent.
    return { ok: true, appends: seq > (this.lastReadSent.get(actor) ?? 0) };
  }

  add(actor: string, target: string): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    return { ok: true, appends: !this.isMember(target) };
  }

  remove(actor: string, target: string): Expected {
    if (!this.isMember(actor)) return { ok: false, codes: REFUSED_TO_OUTSIDERS };
    if (!this.isMember(target)) return { ok: true, appends: false };
    // A member may leave; only the creator removes others.
    return actor === target || actor === this.createdBy ? { ok: true, appends: true } : { ok: false, codes: ['FORBIDDEN'] };
  }

  /** Members only; anyone else is refused. */
  membersOnly(actor: string): Expected {
    return this.isMember(actor) ? { ok: true, appends: false } : { ok: false, codes: REFUSED_TO_OUTSIDERS };
  }

  // -- effects: the model after an accepted command ------------------------------------

  appendedAt(seq: number): void {
    this.seqs.push(seq);
    this.lastSeq = seq;
    this.appended++;
  }

  sent(seq: number, senderId: string, clientMsgId: string, body: string): void {
    this.messages.set(seq, { seq, senderId, clientMsgId, body, deleted: false, edited: false, reactions: new Map() });
    this.appendedAt(seq);
  }

  edited(target: number, body: string, seq: number): void {
    const m = this.messages.get(target)!;
    m.body = body;
    m.edited = true;
    this.appendedAt(seq);
  }

  deleted(target: number, seq: number): void {
    const m = this.messages.get(target)!;
    m.deleted = true;
    m.body = '';
    m.reactions.clear();
    this.appendedAt(seq);
  }

  reacted(target: number, actor: string, emoji: string, add: boolean, seq: number): void {
    const m = this.messages.get(target)!;
    const users = m.reactions.get(emoji) ?? new Set<string>();
    if (add) users.add(actor);
    else users.delete(actor);
    if (users.size) m.reactions.set(emoji, users);
    else m.reactions.delete(emoji);
    this.appendedAt(seq);
  }

  /** A change refused because it lost a race: the gateway may have appended it before the projector said no. */
  changeLost(): void {
    this.refusedMaybe++;
  }

  markerSent(actor: string, seq: number): void {
    this.lastReadSent.set(actor, seq);
    this.appended++;
  }

  joined(userId: string, seq: number): void {
    this.join(userId, seq);
    this.appendedAt(seq);
  }

  left(userId: string, seq: number): void {
    this.members.delete(userId);
    const periods = this.periods.get(userId)!;
    periods[periods.length - 1]!.to = seq;
    this.appendedAt(seq);
  }

  /** Whether `userId` was a member at `seq` (both ends of a period count: its join and its removal are its own events). */
  memberAt(userId: string, seq: number): boolean {
    return (this.periods.get(userId) ?? []).some((p) => p.from <= seq && (p.to === undefined || seq <= p.to));
  }

  /** The messages as `history` must show them, oldest first, in a form to compare. */
  expectedHistory(): ComparableMessage[] {
    return [...this.messages.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((m) => ({
        seq: m.seq, senderId: m.senderId, clientMsgId: m.clientMsgId, body: m.body, deleted: m.deleted, edited: m.edited && !m.deleted,
        reactions: Object.fromEntries([...m.reactions].map(([e, users]) => [e, [...users].sort()]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))),
      }));
  }

  private join(userId: string, seq: number): void {
    this.members.add(userId);
    const periods = this.periods.get(userId) ?? [];
    periods.push({ from: seq });
    this.periods.set(userId, periods);
  }
}

/** A model message as `toEqual` compares it with a served one: reactions as sorted lists. */
export type ComparableMessage = Omit<ModelMessage, 'reactions'> & { reactions: Record<string, string[]> };

export function comparable(m: Message): ComparableMessage {
  return {
    seq: m.seq, senderId: m.senderId, clientMsgId: m.clientMsgId, body: m.body, deleted: m.deleted === true, edited: m.editedAt !== undefined && m.deleted !== true,
    reactions: Object.fromEntries(Object.entries(m.reactions ?? {}).map(([e, users]) => [e, [...users].sort()] as const).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}
