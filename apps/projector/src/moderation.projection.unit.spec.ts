import type { Message } from '@chat/contracts';
import { OPERATOR, type Conversation, type ConversationEvent, type ConversationState } from '@chat/domain';
import { messageKey } from '@chat/storage';
import { projectBatch, type LoggedEvent } from './timeline.projection';

const CID = 'g_mod';
const t = (n: number) => `2024-01-01T00:00:${String(n).padStart(2, '0')}.000Z`;

const sent = (at: number, senderId: string, clientMsgId: string, basis?: number): ConversationEvent => ({
  type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId, body: `body ${clientMsgId}`, at: t(at), ...(basis !== undefined && { basis }),
});
const roleSet = (at: number, by: string, userId: string, role: 'moderator' | 'member'): ConversationEvent => ({ type: 'RoleSet', v: 1, conversationId: CID, by, userId, role, at: t(at) });
const muted = (at: number, by: string, userId: string, until?: number): ConversationEvent => ({
  type: 'MemberMuted', v: 1, conversationId: CID, by, userId, at: t(at), ...(until !== undefined && { until: t(until) }),
});
const unmuted = (at: number, by: string, userId: string): ConversationEvent => ({ type: 'MemberUnmuted', v: 1, conversationId: CID, by, userId, at: t(at) });
const slowMode = (at: number, by: string, seconds: number): ConversationEvent => ({ type: 'SlowModeSet', v: 1, conversationId: CID, by, seconds, at: t(at) });
const reported = (at: number, by: string, targetSeq: number, reason = 'spam'): ConversationEvent => ({ type: 'MessageReported', v: 1, conversationId: CID, by, targetSeq, reason, at: t(at) });
const removed = (at: number, by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersRemoved', v: 1, conversationId: CID, by, userIds, at: t(at) });
const added = (at: number, by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersAdded', v: 1, conversationId: CID, by, userIds, at: t(at) });
const deleted = (at: number, by: string, targetSeq: number): ConversationEvent => ({ type: 'MessageDeleted', v: 1, conversationId: CID, by, targetSeq, at: t(at) });

const log = (fromSeq: number, ...events: ConversationEvent[]): LoggedEvent[] => events.map((event, i) => ({ seq: fromSeq + i + 1, conversationId: CID, event }));

/** owner's group of owner, mod (a moderator), bob and cat, left at seq 10 with 5 messages; bob's message at seq 9. */
const existing = (more: Partial<Conversation> = {}): Conversation => ({
  id: CID, kind: 'group', title: 'Team', createdBy: 'owner', createdAt: t(1), members: new Set(['owner', 'mod', 'bob', 'cat']),
  lastSeq: 10, messageCount: 5, moderators: new Set(['mod']), ...more,
});
const bobsMessage: Message = { type: 'message', conversationId: CID, seq: 9, senderId: 'bob', clientMsgId: 'b9', body: 'buy now', sentAt: t(9) };

function project(events: LoggedEvent[], state: Conversation = existing()) {
  return projectBatch({
    partition: 1, fromSeq: state.lastSeq, events, states: new Map<string, ConversationState>([[CID, state]]), knownSends: new Set(),
    targets: new Map([[messageKey(CID, 9), bobsMessage]]), readMarkers: new Map(), fanoutMax: 1_000_000,
  });
}

describe('projecting moderation', () => {
  it('shows a role change to every member as a conversation event and writes the member\'s role', () => {
    const { writes, deliveries, states } = project(log(10, roleSet(11, 'owner', 'bob', 'moderator')));
    expect(deliveries).toEqual([expect.objectContaining({
      event: { type: 'conversation', conversationId: CID, seq: 11, change: 'role_changed', userIds: ['bob'], by: 'owner', role: 'moderator' },
      recipients: ['owner', 'mod', 'bob', 'cat'],
    })]);
    expect(writes.timeline.map((r) => [r.seq, r.kind])).toEqual([[11, 'conversation']]);
    expect(writes.inbox.map((r) => r.userId)).toEqual(['owner', 'mod', 'bob', 'cat']);
    expect(writes.memberModeration).toEqual([{ conversationId: CID, userId: 'bob', role: 'moderator', mutedSeq: null, mutedUntil: null }]);
    // A change to the conversation (lastSeq), not activity: the list order stays.
    expect(writes.conversations[0]).toMatchObject({ lastSeq: 11 });
    expect(writes.conversations[0]).not.toHaveProperty('lastActivityAt');
    expect(states.get(CID)!.moderators).toEqual(new Set(['mod', 'bob']));
  });

  it('writes a mute with its seq and end, shows it, and clears it on unmute', () => {
    const mute = project(log(10, muted(11, 'mod', 'bob', 50)));
    expect(mute.deliveries[0]!.event).toEqual({ type: 'conversation', conversationId: CID, seq: 11, change: 'member_muted', userIds: ['bob'], by: 'mod', until: t(50) });
    expect(mute.writes.memberModeration).toEqual([{ conversationId: CID, userId: 'bob', role: 'member', mutedSeq: 11, mutedUntil: t(50) }]);
    const unmute = project(log(11, unmuted(12, 'owner', 'bob')), mute.states.get(CID)!);
    expect(unmute.deliveries[0]!.event).toEqual({ type: 'conversation', conversationId: CID, seq: 12, change: 'member_unmuted', userIds: ['bob'], by: 'owner' });
    expect(unmute.writes.memberModeration).toEqual([{ conversationId: CID, userId: 'bob', role: 'member', mutedSeq: null, mutedUntil: null }]);
  });

  it('refuses a muted member\'s send at its place in the log unless its gateway decided before the mute', () => {
    const { writes } = project(log(10, muted(11, 'mod', 'bob'), sent(12, 'bob', 'racing', 10), sent(13, 'bob', 'late', 11)));
    expect(writes.rejected).toEqual([{ seq: 13, conversationId: CID, code: 'FORBIDDEN', reason: 'you are muted in this conversation' }]);
    expect(writes.timeline.map((r) => r.seq)).toEqual([11, 12]);
  });

  it('keeps slow mode in the conversation row and refuses, as RATE_LIMITED, a fast send its gateway could have known was fast', () => {
    const { writes, deliveries, states } = project(log(10, slowMode(11, 'mod', 10), sent(12, 'bob', 'first', 11), sent(13, 'bob', 'two devices', 11), sent(14, 'bob', 'too fast', 13), sent(15, 'mod', 'exempt', 14)));
    expect(deliveries[0]!.event).toEqual({ type: 'conversation', conversationId: CID, seq: 11, change: 'slow_mode', userIds: [], by: 'mod', seconds: 10 });
    expect(writes.rejected).toEqual([{ seq: 14, conversationId: CID, code: 'RATE_LIMITED', reason: 'slow mode: one message every 10 s' }]);
    expect(writes.conversations[0]).toMatchObject({ slowModeSeconds: 10, slowModeSeq: 11, lastSeq: 15 });
    expect(states.get(CID)!.lastSends).toEqual(new Map([['bob', { seq: 13, at: t(13) }], ['mod', { seq: 15, at: t(15) }]]));
    const off = project(log(15, slowMode(16, 'owner', 0)), states.get(CID)!);
    expect(off.writes.conversations[0]).not.toHaveProperty('slowModeSeconds');
  });

  it('records a report for the operators only: no timeline row, no inbox, no live event, nothing members see changes', () => {
    const { writes, deliveries } = project(log(10, reported(11, 'cat', 9, 'selling things')));
    expect(writes.reports).toEqual([{ conversationId: CID, seq: 11, targetSeq: 9, reportedBy: 'cat', reason: 'selling things', reportedAt: t(11) }]);
    expect(writes).toMatchObject({ toSeq: 11, timeline: [], inbox: [], conversations: [], rejected: [] });
    expect(deliveries).toEqual([]);
  });

  it('refuses a report of one\'s own message and of a message that is not there', () => {
    const { writes } = project(log(10, reported(11, 'bob', 9), reported(12, 'cat', 8)));
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'BAD_REQUEST'], [12, 'NOT_FOUND']]);
    expect(writes.reports).toEqual([]);
  });

  it('lets the operator delete and remove whatever its membership, shown like any delete and removal', () => {
    const { writes, deliveries } = project(log(10, deleted(11, OPERATOR, 9), removed(12, OPERATOR, ['owner'])));
    expect(writes.rejected).toEqual([]);
    expect(deliveries.map((d) => d.event)).toEqual([
      { type: 'message:deleted', conversationId: CID, seq: 11, targetSeq: 9 },
      { type: 'conversation', conversationId: CID, seq: 12, change: 'members_removed', userIds: ['owner'] },
    ]);
  });

  it('gives a member removed and added back in one batch a fresh row: no role and no mute are written for it', () => {
    const { writes, states } = project(log(10, muted(11, 'owner', 'bob'), roleSet(12, 'owner', 'cat', 'moderator'), removed(13, 'mod', ['bob', 'cat']), added(14, 'owner', ['bob'])));
    expect(writes.memberDeletes.map((d) => d.userId).sort()).toEqual(['bob', 'cat']);
    expect(writes.memberInserts.map((d) => d.userId)).toEqual(['bob']);
    expect(writes.memberModeration).toEqual([{ conversationId: CID, userId: 'bob', role: 'member', mutedSeq: null, mutedUntil: null }]);
    expect(states.get(CID)).toMatchObject({ moderators: new Set(['mod']) });
    expect(states.get(CID)!.muted).toBeUndefined();
  });
});
