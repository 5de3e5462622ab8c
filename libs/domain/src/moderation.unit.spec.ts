import type { ConversationCommand } from './commands';
import { admit, decide, evolve, type Decision } from './conversation.decider';
import type { Conversation, ConversationState, MessageRef } from './conversation.state';
import type { ConversationEvent } from './events';
import { OPERATOR } from './ids';
import { rolesOf, sendRestriction } from './moderation.rules';
import { upcast } from './upcast';

const CID = 'g_mod';
/** Seconds after the start of the test's day. */
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** The log, folded like the projector folds it: admit at each event's place, then evolve, seq 1..n. */
function fold(...events: ConversationEvent[]): Conversation {
  let state: ConversationState;
  events.forEach((event, i) => {
    const rejection = admit(state, event, targetOf(event));
    if (rejection) throw new Error(`event ${i + 1} (${event.type}) refused: ${rejection.code} ${rejection.reason}`);
    state = evolve(state, event, i + 1);
  });
  return state!;
}

/** Every message of these tests is bob's, not deleted: what a change or report finds at its target. */
const targetOf = (event: ConversationEvent): MessageRef | undefined =>
  'targetSeq' in event ? { senderId: 'bob', deleted: false, reactions: {}, inThread: false } : undefined;
const bobs: MessageRef = { senderId: 'bob', deleted: false, reactions: {}, inThread: false };

const created = (kind: 'group' | 'direct' = 'group'): ConversationEvent => ({
  type: 'ConversationCreated', v: 1, conversationId: CID, kind, members: kind === 'group' ? ['owner', 'mod', 'bob', 'cat'] : ['owner', 'bob'], createdBy: 'owner', at: t(0),
});
const roleSet = (by: string, userId: string, role: 'moderator' | 'member' = 'moderator', at = 1): ConversationEvent => ({ type: 'RoleSet', v: 1, conversationId: CID, by, userId, role, at: t(at) });
const muted = (by: string, userId: string, until?: number, at = 2): ConversationEvent => ({
  type: 'MemberMuted', v: 1, conversationId: CID, by, userId, at: t(at), ...(until !== undefined && { until: t(until) }),
});
const unmuted = (by: string, userId: string, at = 3): ConversationEvent => ({ type: 'MemberUnmuted', v: 1, conversationId: CID, by, userId, at: t(at) });
const slowMode = (by: string, seconds: number, at = 2): ConversationEvent => ({ type: 'SlowModeSet', v: 1, conversationId: CID, by, seconds, at: t(at) });
const sent = (senderId: string, at: number, basis?: number, clientMsgId = `m${at}`): ConversationEvent => ({
  type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId, body: 'hi', at: t(at), ...(basis !== undefined && { basis }),
});
const removed = (by: string, userIds: string[], at = 4): ConversationEvent => ({ type: 'MembersRemoved', v: 1, conversationId: CID, by, userIds, at: t(at) });
const added = (by: string, userIds: string[], at = 5): ConversationEvent => ({ type: 'MembersAdded', v: 1, conversationId: CID, by, userIds, at: t(at) });
const deleted = (by: string, targetSeq: number, at = 6): ConversationEvent => ({ type: 'MessageDeleted', v: 1, conversationId: CID, by, targetSeq, at: t(at) });
const reported = (by: string, targetSeq: number, reason = 'spam', at = 7): ConversationEvent => ({ type: 'MessageReported', v: 1, conversationId: CID, by, targetSeq, reason, at: t(at) });

/** A group of owner, mod (a moderator, seq 2), bob and cat. */
const group = () => fold(created(), roleSet('owner', 'mod'));

const send = (senderId: string, at: number): ConversationCommand => ({ type: 'SendMessage', conversationId: CID, senderId, clientMsgId: `c${at}`, body: 'hello', at: t(at) });
const code = (d: Decision) => (d.ok ? (d.events.length ? 'accepted' : 'no-op') : d.rejection.code);
const refusal = (state: ConversationState, event: ConversationEvent, target?: MessageRef) => admit(state, event, target)?.code ?? 'admitted';

describe('roles', () => {
  it('makes the creator the owner; only the owner names moderators and takes the role back', () => {
    const state = group();
    expect(rolesOf(state)).toEqual({ owner: 'owner', mod: 'moderator' });
    expect(refusal(state, roleSet('mod', 'bob'))).toBe('FORBIDDEN');
    expect(refusal(state, roleSet('bob', 'cat'))).toBe('FORBIDDEN');
    expect(refusal(state, roleSet('stranger', 'cat'))).toBe('FORBIDDEN');
    expect(rolesOf(evolve(state, roleSet('owner', 'mod', 'member'), 3))).toEqual({ owner: 'owner' });
  });

  it('refuses to change the owner (FORBIDDEN) or a non-member (BAD_REQUEST), and answers a role already held as a no-op', () => {
    const state = group();
    expect(refusal(state, roleSet('owner', 'owner', 'member'))).toBe('FORBIDDEN');
    expect(refusal(state, roleSet('owner', 'dan'))).toBe('BAD_REQUEST');
    expect(refusal(state, roleSet('owner', 'mod'))).toBe('CONFLICT');
    expect(code(decide({ type: 'SetRole', conversationId: CID, by: 'owner', userId: 'mod', role: 'moderator', at: t(3) }, state))).toBe('no-op');
    expect(code(decide({ type: 'SetRole', conversationId: CID, by: 'owner', userId: 'bob', role: 'member', at: t(3) }, state))).toBe('no-op');
  });

  it('has no roles or moderation in a direct conversation: FORBIDDEN', () => {
    const direct = fold(created('direct'));
    expect(rolesOf(direct)).toEqual({});
    for (const event of [roleSet('owner', 'bob'), muted('owner', 'bob'), slowMode('owner', 10), muted(OPERATOR, 'bob')]) {
      expect({ type: event.type, code: refusal(direct, event) }).toEqual({ type: event.type, code: 'FORBIDDEN' });
    }
  });

  it('shows an owner who left no more, and again once it is back', () => {
    const left = fold(created(), removed('owner', ['owner']));
    expect(rolesOf(left)).toEqual({});
    expect(rolesOf(evolve(left, added('bob', ['owner']), 3))).toEqual({ owner: 'owner' });
  });
});

describe('mutes', () => {
  it('lets the owner and moderators mute members, never a plain member, and never the owner but by the operator', () => {
    const state = group();
    expect(refusal(state, muted('owner', 'bob'))).toBe('admitted');
    expect(refusal(state, muted('mod', 'bob'))).toBe('admitted');
    expect(refusal(state, muted('mod', 'mod'))).toBe('admitted');
    expect(refusal(state, muted('cat', 'bob'))).toBe('FORBIDDEN');
    expect(refusal(state, muted('mod', 'owner'))).toBe('FORBIDDEN');
    expect(refusal(state, muted('owner', 'owner'))).toBe('FORBIDDEN');
    expect(refusal(state, muted(OPERATOR, 'owner'))).toBe('admitted');
    expect(refusal(state, muted('owner', 'dan'))).toBe('BAD_REQUEST');
  });

  it('refuses an end that is not after the command (BAD_REQUEST) and answers the same mute again as a no-op', () => {
    const state = group();
    expect(refusal(state, muted('owner', 'bob', 2, 2))).toBe('BAD_REQUEST');
    const bobMuted = fold(created(), roleSet('owner', 'mod'), muted('owner', 'bob', 100));
    expect(code(decide({ type: 'MuteMember', conversationId: CID, by: 'mod', userId: 'bob', until: t(100), at: t(4) }, bobMuted))).toBe('no-op');
    // Another end is a new mute.
    expect(code(decide({ type: 'MuteMember', conversationId: CID, by: 'mod', userId: 'bob', until: t(200), at: t(4) }, bobMuted))).toBe('accepted');
    expect(code(decide({ type: 'UnmuteMember', conversationId: CID, by: 'mod', userId: 'cat', at: t(4) }, bobMuted))).toBe('no-op');
  });

  it('holds a muted member\'s sends (FORBIDDEN, retryAfterMs to the end), edits and reactions back, until the end or the unmute', () => {
    const state = fold(created(), roleSet('owner', 'mod'), sent('bob', 2), muted('owner', 'bob', 60, 3));
    const d = decide(send('bob', 10), state);
    expect(d).toEqual({ ok: false, rejection: { code: 'FORBIDDEN', reason: `you are muted in this conversation until ${t(60)}`, retryAfterMs: 50_000 } });
    expect(code(decide(send('bob', 60), state))).toBe('accepted');
    expect(code(decide(send('cat', 10), state))).toBe('accepted');
    expect(code(decide({ type: 'EditMessage', conversationId: CID, by: 'bob', targetSeq: 3, body: 'x', at: t(10) }, state, bobs))).toBe('FORBIDDEN');
    expect(code(decide({ type: 'AddReaction', conversationId: CID, userId: 'bob', targetSeq: 3, emoji: '👍', at: t(10) }, state, bobs))).toBe('FORBIDDEN');
    // Deleting its own message, reading and reporting are not posting.
    expect(code(decide({ type: 'DeleteMessage', conversationId: CID, by: 'bob', targetSeq: 3, at: t(10) }, state, bobs))).toBe('accepted');
    expect(code(decide({ type: 'MarkRead', conversationId: CID, userId: 'bob', seq: 3, at: t(10) }, state))).toBe('accepted');
    const unmutedState = evolve(state, unmuted('mod', 'bob', 11), 5);
    expect(code(decide(send('bob', 12), unmutedState))).toBe('accepted');
    expect(unmutedState.muted).toBeUndefined();
  });

  it('mutes without an end until unmuted, and says so without retryAfterMs', () => {
    const state = fold(created(), muted('owner', 'bob'));
    expect(decide(send('bob', 3600), state)).toEqual({ ok: false, rejection: { code: 'FORBIDDEN', reason: 'you are muted in this conversation' } });
  });

  it('in log order, refuses a send only when its gateway could have seen the mute (the mute\'s seq at or below the basis)', () => {
    const state = fold(created(), roleSet('owner', 'mod'), muted('owner', 'bob', undefined, 3)); // the mute is seq 3
    expect(refusal(state, sent('bob', 4, 2))).toBe('admitted'); // decided before the mute, acked: kept
    expect(refusal(state, sent('bob', 4, 3))).toBe('FORBIDDEN');
    expect(refusal(state, sent('bob', 4))).toBe('FORBIDDEN'); // no basis: decided knowing everything
    // The gateway itself, deciding on a state with the mute, always refuses.
    expect(code(decide(send('bob', 4), state))).toBe('FORBIDDEN');
  });
});

describe('slow mode', () => {
  /** owner, mod (moderator), bob, cat; slow mode 10 s set at seq 3 (time 2). */
  const slow = (...more: ConversationEvent[]) => fold(created(), roleSet('owner', 'mod'), slowMode('mod', 10), ...more);

  it('lets a member send once per window: a faster send is RATE_LIMITED with retryAfterMs until the window ends', () => {
    const state = slow(sent('bob', 5)); // seq 4 at time 5
    expect(state.lastSends).toEqual(new Map([['bob', { seq: 4, at: t(5) }]]));
    expect(decide(send('bob', 8), state)).toEqual({ ok: false, rejection: { code: 'RATE_LIMITED', reason: 'slow mode: one message every 10 s', retryAfterMs: 7_000 } });
    expect(code(decide(send('bob', 15), state))).toBe('accepted');
    expect(code(decide(send('cat', 6), state))).toBe('accepted');
  });

  it('exempts the owner and moderators', () => {
    const state = slow(sent('owner', 5), sent('mod', 5));
    expect(code(decide(send('owner', 6), state))).toBe('accepted');
    expect(code(decide(send('mod', 6), state))).toBe('accepted');
    expect(sendRestriction(state, 'mod', t(6))).toBeUndefined();
  });

  it('counts only sends after slow mode was set, and forgets them when it changes or goes off', () => {
    const before = fold(created(), roleSet('owner', 'mod'), sent('bob', 1), slowMode('mod', 10, 2));
    expect(code(decide(send('bob', 3), before))).toBe('accepted');
    const again = evolve(slow(sent('bob', 5)), slowMode('owner', 30, 6), 5);
    expect(again.lastSends).toEqual(new Map());
    expect(code(decide(send('bob', 7), again))).toBe('accepted');
    const off = evolve(slow(sent('bob', 5)), slowMode('owner', 0, 6), 5);
    expect(off.slowMode).toBeUndefined();
    expect(off.lastSends).toBeUndefined();
    expect(code(decide(send('bob', 6), off))).toBe('accepted');
  });

  it('in log order, refuses a fast send only when its gateway could have seen the earlier one (its seq at or below the basis)', () => {
    const state = slow(sent('bob', 5)); // bob's last send is seq 4
    expect(refusal(state, sent('bob', 6, 3, 'x'))).toBe('admitted'); // two devices at once: both acked, both kept
    const limited = admit(state, sent('bob', 6, 4, 'x'));
    expect(limited).toEqual({ code: 'RATE_LIMITED', reason: 'slow mode: one message every 10 s', retryAfterMs: 9_000 });
  });

  it('waits one whole window at most when the send is stamped before the last one (clocks of two gateways)', () => {
    expect(admit(slow(sent('bob', 5)), sent('bob', 4, 4, 'x'))).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 10_000 });
  });

  it('refuses seconds outside 0-3600 (BAD_REQUEST), a member setting it (FORBIDDEN), and answers the same setting as a no-op', () => {
    const state = slow();
    expect(refusal(state, slowMode('owner', 3601))).toBe('BAD_REQUEST');
    expect(refusal(state, slowMode('owner', 1.5))).toBe('BAD_REQUEST');
    expect(refusal(state, slowMode('bob', 5))).toBe('FORBIDDEN');
    expect(code(decide({ type: 'SetSlowMode', conversationId: CID, by: 'owner', seconds: 10, at: t(9) }, state))).toBe('no-op');
    expect(code(decide({ type: 'SetSlowMode', conversationId: CID, by: 'owner', seconds: 0, at: t(9) }, group()))).toBe('no-op');
  });
});

describe('removals and deletes by the owner, moderators and the operator', () => {
  it('lets moderators remove any member but the owner; plain members remove only themselves', () => {
    const state = group();
    expect(refusal(state, removed('mod', ['bob', 'cat']))).toBe('admitted');
    expect(refusal(state, removed('owner', ['mod']))).toBe('admitted');
    expect(refusal(state, removed('mod', ['owner']))).toBe('FORBIDDEN');
    expect(refusal(state, removed('bob', ['cat']))).toBe('FORBIDDEN');
    expect(refusal(state, removed('bob', ['bob']))).toBe('admitted');
    expect(refusal(state, removed('owner', ['owner']))).toBe('admitted');
  });

  it('lets the operator remove anyone, the owner too, whatever its membership; never in a direct conversation', () => {
    expect(refusal(group(), removed(OPERATOR, ['owner', 'bob']))).toBe('admitted');
    expect(refusal(fold(created('direct')), removed(OPERATOR, ['bob']))).toBe('FORBIDDEN');
  });

  it('ends a removed member\'s role, mute and last send: added back, it starts as a plain, unmuted member', () => {
    const state = fold(created(), roleSet('owner', 'mod'), slowMode('owner', 10, 2), muted('owner', 'bob', undefined, 3), sent('mod', 4), removed('owner', ['mod', 'bob']), added('cat', ['mod', 'bob']));
    expect(state.moderators).toBeUndefined();
    expect(state.muted).toBeUndefined();
    expect(state.lastSends).toEqual(new Map());
    expect(code(decide(send('bob', 7), state))).toBe('accepted');
  });

  it('lets the owner and moderators delete any message of a group, the operator any message anywhere', () => {
    const state = group();
    expect(refusal(state, deleted('mod', 1), bobs)).toBe('admitted');
    expect(refusal(state, deleted('owner', 1), bobs)).toBe('admitted');
    expect(refusal(state, deleted('cat', 1), bobs)).toBe('FORBIDDEN');
    expect(refusal(state, deleted(OPERATOR, 1), bobs)).toBe('admitted');
    expect(refusal(fold(created('direct')), deleted(OPERATOR, 1), bobs)).toBe('admitted');
    expect(refusal(fold(created('direct')), deleted('owner', 1), bobs)).toBe('FORBIDDEN');
    expect(refusal(state, deleted(OPERATOR, 1), undefined)).toBe('NOT_FOUND');
  });
});

describe('reports', () => {
  it('lets any member report another\'s message, in groups and direct conversations, changing nothing members see', () => {
    const state = group();
    expect(refusal(state, reported('cat', 1), bobs)).toBe('admitted');
    expect(evolve(state, reported('cat', 1), 3)).toBe(state);
    expect(refusal(fold(created('direct')), reported('owner', 1), bobs)).toBe('admitted');
  });

  it('refuses a stranger (FORBIDDEN), a missing or deleted message (NOT_FOUND), one\'s own message and a bad reason (BAD_REQUEST)', () => {
    const state = group();
    expect(refusal(state, reported('dan', 1), bobs)).toBe('FORBIDDEN');
    expect(refusal(state, reported('cat', 1), undefined)).toBe('NOT_FOUND');
    expect(refusal(state, reported('cat', 1), { ...bobs, deleted: true })).toBe('NOT_FOUND');
    expect(refusal(state, reported('bob', 1), bobs)).toBe('BAD_REQUEST');
    expect(refusal(state, reported('cat', 1, 'x'.repeat(501)), bobs)).toBe('BAD_REQUEST');
  });
});

describe('determinism', () => {
  it('reaches the same verdicts and state however often the same log is folded', () => {
    const log: ConversationEvent[] = [
      created(), roleSet('owner', 'mod'), slowMode('mod', 10), sent('bob', 3), sent('bob', 5, 4, 'fast'), sent('bob', 6, 3, 'racing'),
      muted('mod', 'cat', 30, 6), sent('cat', 7, 7), sent('cat', 8, 6), unmuted('owner', 'cat', 9), sent('cat', 12, 10, 'slow'), sent('cat', 20, 10),
    ];
    const verdicts = () => {
      let state: ConversationState;
      return log.map((event, i) => {
        const rejection = admit(state, event);
        if (!rejection) state = evolve(state, event, i + 1);
        return rejection?.code ?? 'admitted';
      });
    };
    const first = verdicts();
    expect(first).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'RATE_LIMITED', 'admitted', 'admitted', 'FORBIDDEN', 'admitted', 'admitted', 'RATE_LIMITED', 'admitted']);
    expect(verdicts()).toEqual(first);
  });
});

describe('upcast of the moderation events', () => {
  const base = { v: 1, conversationId: CID, at: t(1) };

  it('reads each event in its v1 shape', () => {
    for (const raw of [
      { ...base, type: 'RoleSet', by: 'owner', userId: 'bob', role: 'moderator' },
      { ...base, type: 'MemberMuted', by: 'owner', userId: 'bob', until: t(9) },
      { ...base, type: 'MemberMuted', by: 'owner', userId: 'bob' },
      { ...base, type: 'MemberUnmuted', by: 'owner', userId: 'bob' },
      { ...base, type: 'SlowModeSet', by: 'owner', seconds: 0 },
      { ...base, type: 'SlowModeSet', by: 'owner', seconds: 3600 },
      { ...base, type: 'MessageReported', by: 'cat', targetSeq: 3, reason: 'spam' },
    ]) {
      expect(upcast(raw)).toEqual(raw);
    }
  });

  it('takes the operator only where operators act: removals, deletes, mutes and unmutes', () => {
    expect(upcast({ ...base, type: 'MessageDeleted', by: OPERATOR, targetSeq: 3 })).toBeDefined();
    expect(upcast({ ...base, type: 'MembersRemoved', by: OPERATOR, userIds: ['bob'] })).toBeDefined();
    expect(upcast({ ...base, type: 'MemberMuted', by: OPERATOR, userId: 'bob' })).toBeDefined();
    expect(upcast({ ...base, type: 'MemberUnmuted', by: OPERATOR, userId: 'bob' })).toBeDefined();
    for (const raw of [
      { ...base, type: 'MessageSent', senderId: OPERATOR, clientMsgId: 'x', body: 'hi' },
      { ...base, type: 'MessageEdited', by: OPERATOR, targetSeq: 3, body: 'x' },
      { ...base, type: 'MembersAdded', by: OPERATOR, userIds: ['bob'] },
      { ...base, type: 'RoleSet', by: OPERATOR, userId: 'bob', role: 'moderator' },
      { ...base, type: 'SlowModeSet', by: OPERATOR, seconds: 5 },
      { ...base, type: 'MessageReported', by: OPERATOR, targetSeq: 3, reason: 'x' },
      { ...base, type: 'MemberMuted', by: 'owner', userId: OPERATOR },
    ]) {
      expect({ type: raw.type, read: upcast(raw) }).toEqual({ type: raw.type, read: undefined });
    }
  });

  it('refuses malformed fields', () => {
    for (const raw of [
      { ...base, type: 'RoleSet', by: 'owner', userId: 'bob', role: 'owner' },
      { ...base, type: 'MemberMuted', by: 'owner', userId: 'bob', until: 'soon' },
      { ...base, type: 'SlowModeSet', by: 'owner', seconds: 3601 },
      { ...base, type: 'SlowModeSet', by: 'owner', seconds: '10' },
      { ...base, type: 'MessageReported', by: 'cat', targetSeq: 3, reason: '' },
      { ...base, type: 'MessageReported', by: 'cat', targetSeq: 3, reason: 'x'.repeat(501) },
      { ...base, type: 'MessageReported', by: 'cat', targetSeq: -1, reason: 'x' },
      { ...base, v: 2, type: 'RoleSet', by: 'owner', userId: 'bob', role: 'moderator' },
    ]) {
      expect({ raw, read: upcast(raw) }).toEqual({ raw, read: undefined });
    }
  });
});
