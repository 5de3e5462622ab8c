import fc from 'fast-check';
import type { Ack, ChatEvent } from '@chat/contracts';
import { ConversationModel, comparable, ROLES, type Expected, type Role } from '../support/chat-model';
import { wholeHistory, type TestClient } from '../support/clients';
import { caughtUp, footprint, query } from '../support/inspect';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';

jest.setTimeout(180_000);

/**
 * Fixed, so that a failure reproduces: fast-check prints the seed and the path of the
 * failing run; FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest test/faults/fuzz-sequences.fault-spec.ts
 * replays it, FUZZ_SHRINK=1 also shrinks it to a shortest failing sequence (slower).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const PATH = process.env.FUZZ_PATH;
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const MAX_STEPS = 40;

const USERS: Record<Role, string> = { owner: 'ann', member: 'ben', leaver: 'lea', stranger: 'sam' };
const EMOJI = ['👍', '__proto__', ':tada:', 'toString'] as const;
const BODIES = ['hi', 'ünïcödé', '😀 x', 'line\nbreak'] as const;

type Where = 'real' | 'ghost';
/** Whom a membership command names: its actor, one of the roles, or a user who never connects. */
type Who = 'self' | 'owner' | 'member' | 'leaver' | 'fresh';
/** A point in [0, 1): which of the seqs the model knows a command targets, resolved when it runs. */
type Pick = number;

type Step =
  | { op: 'send'; actor: Role; where: Where; body: string }
  | { op: 'resend'; actor: Role; pick: Pick }
  | { op: 'edit'; actor: Role; where: Where; pick: Pick; body: string }
  | { op: 'delete'; actor: Role; where: Where; pick: Pick }
  | { op: 'react'; actor: Role; where: Where; pick: Pick; emoji: string; add: boolean }
  | { op: 'read'; actor: Role; where: Where; pick: Pick | 'zero' | 'past' }
  | { op: 'history'; actor: Role; where: Where }
  | { op: 'typing'; actor: Role; where: Where }
  | { op: 'sync'; actor: Role }
  | { op: 'list'; actor: Role }
  | { op: 'add'; actor: Role; where: Where; who: Who }
  | { op: 'remove'; actor: Role; where: Where; who: Who }
  // Two commands at once: the owner removes a member while it sends; the owner deletes a message while its author edits it.
  | { op: 'raceRemoval'; who: 'member' | 'leaver'; body: string }
  | { op: 'raceEdit'; pick: Pick; body: string };

interface Real {
  model: ConversationModel;
  clients: Record<Role, TestClient>;
  /** Each user's sync cursor from before the conversation existed: what it may see of it starts there. */
  cursors: Record<Role, string>;
  ghost: string;
}

const actor = fc.constantFrom<Role>(...ROLES);
const where = fc.constantFrom<Where>('real', 'real', 'real', 'real', 'real', 'ghost');
const pick = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const who = fc.constantFrom<Who>('self', 'owner', 'member', 'leaver', 'leaver', 'fresh');
const body = fc.constantFrom(...BODIES);

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('send' as const), actor, where, body }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('resend' as const), actor, pick }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('edit' as const), actor, where, pick, body }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), actor, where, pick }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('react' as const), actor, where, pick, emoji: fc.constantFrom(...EMOJI), add: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('read' as const), actor, where, pick: fc.oneof(pick, fc.constantFrom('zero' as const, 'past' as const)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('history' as const), actor, where }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('typing' as const), actor, where }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sync' as const), actor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('list' as const), actor }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), actor, where, who }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), actor, where, who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('raceRemoval' as const), who: fc.constantFrom('member' as const, 'leaver' as const), body }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('raceEdit' as const), pick, body }) },
);

describe('fuzzed command sequences of several users', () => {
  const sys = useSystem('fuzzseq', UNLIMITED);
  const clients = {} as Record<Role, TestClient>;
  /** Every run's conversation, for the last check of what was delivered live. */
  const conversations: ConversationModel[] = [];

  beforeAll(async () => {
    for (const role of ROLES) clients[role] = await sys().connect(USERS[role]);
  });

  it(`keeps ${RUNS} random sequences of sends, edits, deletes, reactions, reads, queries and membership changes within the rules for every user`, async () => {
    let run = 0;
    const codes = new Map<string, number>();
    const count = (what: string) => codes.set(what, (codes.get(what) ?? 0) + 1);
    const before = new Map<ConversationModel, { streams: number; rejected: number; cursors: Record<Role, string> }>();
    const rejectedCount = async () => Number((await query<{ n: string }>(sys().ns, 'SELECT count(*) AS n FROM rejected_events'))[0]!.n);
    const streams = async () => Object.entries(await footprint(sys().ns)).filter(([k]) => k.startsWith('stream')).reduce((n, [, v]) => n + v, 0);

    const setup = async (): Promise<{ model: ConversationModel; real: Real }> => {
      run++;
      const cursors = {} as Record<Role, string>;
      for (const role of ROLES) cursors[role] = (await clients[role].ok('sync', { limit: 1 })).next;
      const { conversation } = await clients.owner.ok('conversation:create', { type: 'group', members: [USERS.member, USERS.leaver], title: `run ${run}` });
      const model = new ConversationModel(conversation.id, USERS.owner, [USERS.owner, USERS.member, USERS.leaver], conversation.lastSeq, run);
      conversations.push(model);
      await caughtUp(sys().ns);
      before.set(model, { streams: await streams(), rejected: await rejectedCount(), cursors });
      return { model, real: { model, clients, cursors, ghost: `g_ghost_${run}_${SEED}` } };
    };

    const property = fc.asyncProperty(fc.commands([stepArbitrary.map((s) => new Command(s, count))], { maxCommands: MAX_STEPS, size: 'max' }), async (commands) => {
      await fc.asyncModelRun(setup, commands);
      await endOfRun(conversations[conversations.length - 1]!);
    });

    /** After a sequence: the read models hold exactly what the model says, and no outsider got anything. */
    const endOfRun = async (model: ConversationModel) => {
      await caughtUp(sys().ns);
      const expected = model.expectedHistory();
      for (const role of ROLES) {
        const user = USERS[role];
        if (model.isMember(user)) {
          expect({ role, history: (await wholeHistory(clients[role], model.id)).map(comparable) }).toEqual({ role, history: expected });
          const summary = (await clients[role].ok('conversation:list', { limit: 200 })).conversations.find((c) => c.id === model.id);
          expect({ role, lastSeq: summary?.lastSeq }).toEqual({ role, lastSeq: model.lastSeq });
        } else {
          const ack = await clients[role].request('history', { conversationId: model.id });
          expect({ role, ack }).toEqual({ role, ack: { ok: false, error: expect.objectContaining({ code: expect.stringMatching(/^(FORBIDDEN|NOT_FOUND)$/) }) } });
        }
      }
      await checkSyncs(model);
      checkLive(model);
      // The projector turned down only read markers that did not move forward and the losers of races.
      const rejected = await query<{ code: string }>(sys().ns, 'SELECT code FROM rejected_events WHERE conversation_id = $1', [model.id]);
      expect(await rejectedCount()).toBe(before.get(model)!.rejected + rejected.length);
      expect(rejected.filter((r) => !['NO_CHANGE', 'FORBIDDEN', 'NOT_FOUND'].includes(r.code))).toEqual([]);
      const lost = rejected.filter((r) => r.code !== 'NO_CHANGE').length;
      // Only changes that lost a race to a delete or a removal, never an acked send.
      expect({ lost: lost <= model.refusedMaybe }).toEqual({ lost: true });
      // Everything accepted is in the log, nothing refused is (but the losers of races that the projector refused).
      expect((await streams()) - before.get(model)!.streams).toBe(model.appended + lost);
    };

    /** Each user's sync from before the conversation: only events of its membership periods; a stranger's: none. */
    const checkSyncs = async (model: ConversationModel) => {
      for (const role of ROLES) {
        const outside = outsideMembership(model, role, await syncAll(clients[role], before.get(model)!.cursors[role]));
        expect({ role, outside }).toEqual({ role, outside: [] });
      }
    };

    /** What reached a user live lies within its membership periods; a stranger got nothing of the conversation. */
    const checkLive = (model: ConversationModel) => {
      for (const role of ROLES) {
        const outside = outsideMembership(model, role, clients[role].received);
        expect({ role, outside }).toEqual({ role, outside: [] });
      }
      const typing = clients.stranger.typing.filter((t) => t.conversationId === model.id);
      const typedByStranger = ROLES.flatMap((r) => clients[r].typing.filter((t) => t.userId === USERS.stranger));
      expect({ typing, typedByStranger }).toEqual({ typing: [], typedByStranger: [] });
    };

    await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK !== '1', ...(PATH !== undefined && { path: PATH }) });
    console.log(`fuzzed sequences (seed ${SEED}, ${run} runs): ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);

    // Live delivery may trail a run's checks: look once more at everything every user was sent.
    for (const model of conversations) checkLive(model);
    // The sequences reached past the membership checks into the rules of each command.
    for (const what of ['send ok', 'edit ok', 'edit FORBIDDEN', 'delete ok', 'react ok', 'remove ok', 'send FORBIDDEN', 'history FORBIDDEN']) {
      expect({ what, seen: (codes.get(what) ?? 0) > 0 }).toEqual({ what, seen: true });
    }
    expect((await fetch(`${sys().app.url}/readyz`)).status).toBe(200);
  });
});

/**
 * The events of the conversation a user should not have: any, for the stranger; for the
 * others those outside their membership periods. `read` events carry a marker, not a
 * position in the log, and are the user's own in sync: they are left out.
 */
function outsideMembership(model: ConversationModel, role: Role, events: ChatEvent[]): ChatEvent[] {
  return events.filter((e) => e.conversationId === model.id && (role === 'stranger' || (e.type !== 'read' && !model.memberAt(USERS[role], e.seq))));
}

/** Messages that are not deleted and whose author (one of the roles) is still a member: what an author can still edit. */
function editable(model: Readonly<ConversationModel>) {
  return [...model.messages.values()].filter((m) => !m.deleted && model.isMember(m.senderId) && ROLES.some((r) => USERS[r] === m.senderId));
}

async function syncAll(client: TestClient, since: string): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for (let cursor = since, pages = 0; pages < 50; pages++) {
    const page = await client.ok('sync', { since: cursor, limit: 1000 });
    // A reset would hand a snapshot instead: the cursor is minutes old, so it must not happen.
    expect(page.reset).toBeUndefined();
    events.push(...page.events);
    if (!page.hasMore) return events;
    cursor = page.next;
  }
  throw new Error('sync did not end within 50 pages');
}

/** One step of a sequence: the model predicts the answer, the real system must give it, and the model follows. */
class Command implements fc.AsyncCommand<ConversationModel, Real> {
  constructor(
    readonly step: Step,
    private readonly count: (what: string) => void,
  ) {}

  check(model: Readonly<ConversationModel>): boolean {
    const s = this.step;
    // A resend needs an earlier send of the same user in this run; a race, two parties who may both act.
    if (s.op === 'resend') return [...model.messages.values()].some((m) => m.senderId === USERS[s.actor]);
    if (s.op === 'raceRemoval') return model.isMember(USERS.owner) && model.isMember(USERS[s.who]);
    if (s.op === 'raceEdit') return model.isMember(USERS.owner) && editable(model).length > 0;
    return true;
  }

  async run(model: ConversationModel, real: Real): Promise<void> {
    const s = this.step;
    if (s.op === 'raceRemoval' || s.op === 'raceEdit') return this.race(model, real, s);
    const client = real.clients[s.actor];
    const user = USERS[s.actor];
    const conversationId = 'where' in s && s.where === 'ghost' ? real.ghost : model.id;
    const ghost = conversationId !== model.id;
    const outsider = (e: Expected): Expected => (ghost ? { ok: false, codes: ['FORBIDDEN', 'NOT_FOUND'] } : e);
    // Mostly a message (deleted ones included), sometimes any event of the conversation (creation, membership, changes).
    const messages = [...model.messages.keys()];
    const target = (p: Pick) => (messages.length && p < 0.8 ? messages[Math.floor((p / 0.8) * messages.length)]! : model.seqs[Math.floor(p * model.seqs.length)]!);

    switch (s.op) {
      case 'send': {
        const clientMsgId = model.clientMsgId();
        const ack = await this.expect(s.op, client.request('message:send', { conversationId, clientMsgId, body: s.body }), outsider(model.send(user)));
        if (ack.ok) {
          expect(ack.duplicate).toBeUndefined();
          expect(ack.seq).toBeGreaterThan(model.lastSeq);
          model.sent(ack.seq, user, clientMsgId, s.body);
        }
        return;
      }
      case 'resend': {
        const own = [...model.messages.values()].filter((m) => m.senderId === user);
        const original = own[Math.floor(s.pick * own.length)]!;
        const ack = await this.expect(s.op, client.request('message:send', { conversationId: model.id, clientMsgId: original.clientMsgId, body: 'again' }), model.send(user));
        // Answered with the original's seq, appended nowhere.
        if (ack.ok) expect({ seq: ack.seq, duplicate: ack.duplicate }).toEqual({ seq: original.seq, duplicate: true });
        return;
      }
      case 'edit': {
        const seq = target(s.pick);
        const ack = await this.expect(s.op, client.request('message:edit', { conversationId, seq, body: s.body }), outsider(model.edit(user, seq)));
        if (ack.ok) model.edited(seq, s.body, this.newSeq(model, ack.seq));
        return;
      }
      case 'delete': {
        const seq = target(s.pick);
        const ack = await this.expect(s.op, client.request('message:delete', { conversationId, seq }), outsider(model.delete(user, seq)));
        if (ack.ok) model.deleted(seq, this.newSeq(model, ack.seq));
        return;
      }
      case 'react': {
        const seq = target(s.pick);
        const expected = outsider(model.react(user, seq, s.emoji, s.add));
        const ack = await this.expect(s.op, client.request(s.add ? 'reaction:add' : 'reaction:remove', { conversationId, seq, emoji: s.emoji }), expected);
        if (ack.ok && expected.ok && expected.appends) model.reacted(seq, user, s.emoji, s.add, this.newSeq(model, ack.seq));
        else if (ack.ok) expect(ack.seq).toBeLessThanOrEqual(model.lastSeq);
        return;
      }
      case 'read': {
        const seq = s.pick === 'zero' ? 0 : s.pick === 'past' ? model.lastSeq + 1000 : target(s.pick);
        const expected = outsider(model.read(user, seq));
        const ack = await this.expect(s.op, client.request('read', { conversationId, seq }), expected);
        if (ack.ok && expected.ok && expected.appends) model.markerSent(user, seq);
        return;
      }
      case 'history': {
        const ack = await this.expect(s.op, client.request('history', { conversationId, limit: 200 }), outsider(model.membersOnly(user)));
        // What a member reads is what the model holds (sends still being projected may be missing).
        if (ack.ok) for (const m of ack.messages) expect(model.messages.get(m.seq)?.senderId).toBe(m.senderId);
        return;
      }
      case 'typing': {
        await this.expect(s.op, client.request('typing', { conversationId, state: 'start' }), outsider(model.membersOnly(user)));
        return;
      }
      case 'sync': {
        const ack = await this.expect(s.op, client.request('sync', { since: real.cursors[s.actor], limit: 1000 }), { ok: true, appends: false });
        if (ack.ok) {
          const outside = outsideMembership(model, s.actor, ack.events);
          expect({ actor: s.actor, outside }).toEqual({ actor: s.actor, outside: [] });
        }
        return;
      }
      case 'list': {
        const ack = await this.expect(s.op, client.request('conversation:list', { limit: 200 }), { ok: true, appends: false });
        if (ack.ok) {
          const mine = ack.conversations.find((c) => c.id === model.id);
          if (s.actor === 'stranger') expect(mine).toBeUndefined();
          // Someone no longer a member sees nothing of what came after it left.
          else if (mine && !model.isMember(user)) {
            const left = model.periods.get(user)!.at(-1)!.to!;
            expect({ lastSeq: mine.lastSeq <= left, lastMessage: (mine.lastMessage?.seq ?? 0) <= left }).toEqual({ lastSeq: true, lastMessage: true });
          }
        }
        return;
      }
      case 'add':
      case 'remove': {
        const subject = s.who === 'self' ? user : s.who === 'fresh' ? model.freshUser() : USERS[s.who];
        const expected = outsider(s.op === 'add' ? model.add(user, subject) : model.remove(user, subject));
        const event = s.op === 'add' ? 'conversation:add_members' : 'conversation:remove_members';
        const ack = await this.expect(s.op, client.request(event, { conversationId, userIds: [subject] }), expected);
        if (ack.ok && expected.ok && expected.appends) {
          const seq = this.newSeq(model, ack.seq);
          if (s.op === 'add') model.joined(subject, seq);
          else model.left(subject, seq);
        } else if (ack.ok) {
          expect(ack.seq).toBeLessThanOrEqual(model.lastSeq);
        }
        return;
      }
    }
  }

  private async race(model: ConversationModel, real: Real, s: Extract<Step, { op: 'raceRemoval' | 'raceEdit' }>): Promise<void> {
    switch (s.op) {
      case 'raceRemoval': {
        const member = real.clients[s.who];
        const subject = USERS[s.who];
        const clientMsgId = model.clientMsgId();
        const [removal, send] = await Promise.all([
          real.clients.owner.request('conversation:remove_members', { conversationId: model.id, userIds: [subject] }),
          member.request('message:send', { conversationId: model.id, clientMsgId, body: s.body }),
        ]);
        const order = removal.ok && send.ok ? (send.seq < removal.seq ? ' before the removal' : ' after the removal') : '';
        this.count(`raceRemoval remove ${removal.ok ? 'ok' : removal.error.code}, send ${send.ok ? 'ok' : send.error.code}${order}`);
        expect({ step: s, removal: removal.ok }).toEqual({ step: s, removal: true });
        expect({ step: s, send: send.ok ? 'ok' : send.error.code }).toEqual({ step: s, send: expect.stringMatching(/^(ok|FORBIDDEN)$/) });
        const removedAt = (removal as { seq: number }).seq;
        if (send.ok && send.seq < removedAt) model.sent(this.newSeq(model, send.seq), subject, clientMsgId, s.body);
        model.left(subject, this.newSeq(model, removedAt));
        // Acked, so stored, even sequenced after the removal: it was decided before it. The
        // remaining members see it; the removed sender, outside its period, does not.
        if (send.ok && send.seq > removedAt) model.sent(this.newSeq(model, send.seq), subject, clientMsgId, s.body);
        return;
      }
      case 'raceEdit': {
        const candidates = editable(model);
        const m = candidates[Math.floor(s.pick * candidates.length)]!;
        const author = ROLES.find((r) => USERS[r] === m.senderId)!;
        const [edit, del] = await Promise.all([
          real.clients[author].request('message:edit', { conversationId: model.id, seq: m.seq, body: s.body }),
          real.clients.owner.request('message:delete', { conversationId: model.id, seq: m.seq }),
        ]);
        this.count(`raceEdit edit ${edit.ok ? 'ok' : edit.error.code}, delete ${del.ok ? 'ok' : del.error.code}`);
        // The delete always wins in the end; the edit counts only if it came first in the log.
        expect({ step: s, delete: del.ok }).toEqual({ step: s, delete: true });
        expect({ step: s, edit: edit.ok ? 'ok' : edit.error.code }).toEqual({ step: s, edit: expect.stringMatching(/^(ok|NOT_FOUND)$/) });
        const deletedAt = (del as { seq: number }).seq;
        if (edit.ok) {
          expect(edit.seq).toBeLessThan(deletedAt);
          model.edited(m.seq, s.body, this.newSeq(model, edit.seq));
        } else {
          model.changeLost();
        }
        model.deleted(m.seq, this.newSeq(model, deletedAt));
        return;
      }
    }
  }

  toString(): string {
    return JSON.stringify(this.step);
  }

  /** The answer the model predicts: ok, or a refusal with one of its codes; never UNAVAILABLE or a timeout. */
  private async expect<T extends object>(op: string, request: Promise<Ack<T>>, expected: Expected): Promise<Ack<T>> {
    const ack = await request;
    this.count(`${op} ${ack.ok ? 'ok' : ack.error.code}`);
    const got = ack.ok ? { ok: true } : { ok: false, code: ack.error.code };
    const want = expected.ok ? { ok: true } : { ok: false, code: expected.codes.includes(got.code ?? '') ? got.code : expected.codes.join('|') };
    expect({ step: this.step, got }).toEqual({ step: this.step, got: want });
    return ack;
  }

  private newSeq(model: ConversationModel, seq: number): number {
    // A change the model says is appended comes with a seq of its own, after everything before it.
    expect(seq).toBeGreaterThan(model.lastSeq);
    return seq;
  }
}
