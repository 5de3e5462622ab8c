import type { Pool } from 'pg';
import { admit, evolve, type Conversation, type ConversationEvent, type ConversationState } from '@chat/domain';
import { ProjectionRepository, ReadModelRepository } from '@chat/storage';
import { useScratchDatabase } from '../../../test/support/scratch-database';
import { projectBatch, type LoggedEvent } from './timeline.projection';
const CID = 'g_cold';
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const ev = {
  created: (at: number): ConversationEvent => ({ type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'group', members: ['owner', 'mod', 'bob', 'cat', 'dan'], createdBy: 'owner', at: t(at) }),
  sent: (at: number, senderId: string, id: string, basis?: number): ConversationEvent => ({
    type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId: id, body: id, at: t(at), ...(basis !== undefined && { basis }),
  }),
  role: (at: number, userId: string, role: 'moderator' | 'member'): ConversationEvent => ({ type: 'RoleSet', v: 1, conversationId: CID, by: 'owner', userId, role, at: t(at) }),
  mute: (at: number, userId: string, until?: number): ConversationEvent => ({ type: 'MemberMuted', v: 1, conversationId: CID, by: 'mod', userId, at: t(at), ...(until !== undefined && { until: t(until) }) }),
  unmute: (at: number, userId: string): ConversationEvent => ({ type: 'MemberUnmuted', v: 1, conversationId: CID, by: 'mod', userId, at: t(at) }),
  slow: (at: number, seconds: number): ConversationEvent => ({ type: 'SlowModeSet', v: 1, conversationId: CID, by: 'mod', seconds, at: t(at) }),
  removed: (at: number, userIds: string[]): ConversationEvent => ({ type: 'MembersRemoved', v: 1, conversationId: CID, by: 'mod', userIds, at: t(at) }),
  added: (at: number, userIds: string[]): ConversationEvent => ({ type: 'MembersAdded', v: 1, conversationId: CID, by: 'cat', userIds, at: t(at) }),
};

/**
 * A log with every moderation change, in batches: roles, mutes with and without an end,
 * slow mode turned on, changed and on again, sends before and after it, a member removed
 * and added back (its earlier sends must not count), a send refused for being fast.
 */
const BATCHES: ConversationEvent[][] = [
  [ev.created(0), ev.role(1, 'mod', 'moderator'), ev.sent(2, 'bob', 'b-before'), ev.mute(3, 'cat', 100)],
  [ev.slow(4, 30), ev.sent(5, 'bob', 'b1'), ev.sent(6, 'dan', 'd1'), ev.sent(7, 'mod', 'm1')],
  [ev.sent(8, 'bob', 'b-fast', 6), ev.role(9, 'bob', 'moderator'), ev.mute(10, 'dan')],
  [ev.removed(11, ['bob']), ev.added(12, ['bob']), ev.unmute(13, 'cat'), ev.sent(14, 'cat', 'c1')],
  [ev.slow(15, 60), ev.sent(16, 'cat', 'c2'), ev.role(17, 'bob', 'moderator'), ev.role(18, 'bob', 'member')],
  [ev.sent(19, 'bob', 'b2'), ev.removed(20, ['cat']), ev.mute(21, 'bob', 500)],
];

/** Memory keeps an emptied map of departed users (all came back); Postgres has none to read: the same to the rules. */
function withoutEmptyDeparted(state: ConversationState): ConversationState {
  if (!state?.departed || state.departed.size > 0) return state;
  const { departed: _departed, ...rest } = state;
  return rest;
}

describe('a conversation loaded cold from Postgres equals the one folded in memory (moderation)', () => {
  const scratch = useScratchDatabase('it_cold');
  let pool: Pool;
  let repo: ProjectionRepository;

  beforeAll(async () => {
    pool = scratch.pool;
    repo = new ProjectionRepository(pool);
    await repo.checkpoints([0]);
  });

  it('after every batch: moderators, mutes, slow mode and each member\'s last send since slow mode, and the same verdicts', async () => {
    let seq = 0;
    let memory: ConversationState;
    const refused: Array<[number, string]> = [];
    for (const events of BATCHES) {
      const logged: LoggedEvent[] = events.map((event) => ({ seq: ++seq, conversationId: CID, event }));
      const projected = projectBatch({
        partition: 0, fromSeq: seq - events.length, events: logged, states: new Map([[CID, memory]]), knownSends: new Set(),
        targets: new Map(), readMarkers: new Map(), fanoutMax: 1_000_000,
      });
      await repo.commit(projected.writes);
      refused.push(...projected.writes.rejected.map((r) => [r.seq, r.code] as [number, string]));
      memory = projected.states.get(CID) ?? memory;
      const cold = (await repo.loadConversations([CID])).get(CID);
      expect({ afterSeq: seq, state: cold }).toEqual({ afterSeq: seq, state: withoutEmptyDeparted(memory) });
    }
    // The fast send (seq 9, decided knowing b1) is the only refusal; bob, removed and added
    // back (seq 12-13), starts afresh.
    expect(refused).toEqual([[9, 'RATE_LIMITED']]);
    const final = memory as Conversation;
    expect(final.slowMode).toEqual({ seconds: 60, seq: 16 });
    // cat sent since slow mode changed, then was removed: only bob's send counts.
    expect(final.lastSends).toEqual(new Map([['bob', { seq: 20, at: t(19) }]]));
    expect(final.muted).toEqual(new Map([['dan', { seq: 11 }], ['bob', { seq: 22, until: t(500) }]]));

    // A probe send of each member is judged alike on the cold state and the one in memory.
    const cold = (await repo.loadConversations([CID])).get(CID)!;
    for (const userId of ['owner', 'mod', 'bob', 'dan']) {
      const probe = ev.sent(40, userId, `probe-${userId}`, final.lastSeq);
      expect({ userId, cold: admit(cold, probe) ?? 'admitted' }).toEqual({ userId, cold: admit(final, probe) ?? 'admitted' });
    }
    expect(evolve(cold, ev.sent(80, 'dan', 'x'), 99).lastSends).toEqual(evolve(final, ev.sent(80, 'dan', 'x'), 99).lastSends);
  });

  it('gives the gateway the same moderators, mutes and slow mode, and the member\'s last send since slow mode', async () => {
    const reads = new ReadModelRepository(pool);
    const c = (await reads.conversation(CID))!;
    const memory = (await repo.loadConversations([CID])).get(CID)!;
    expect({ moderators: c.moderators, muted: c.muted, slowMode: c.slowMode }).toEqual({ moderators: memory.moderators, muted: memory.muted, slowMode: memory.slowMode });
    expect(await reads.lastSend(CID, 'bob', memory.slowMode!.seq)).toEqual({ seq: 20, at: t(19) });
    expect(await reads.lastSend(CID, 'dan', memory.slowMode!.seq)).toBeUndefined();
  });
});
