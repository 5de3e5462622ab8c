import type { Conversation, ConversationEvent, ConversationState } from '@chat/domain';
import { clientMsgKey } from '@chat/storage';
import { projectBatch, type LoggedEvent } from './timeline.projection';

const CID = 'c1';
const t = (n: number) => `2024-01-01T00:00:${String(n).padStart(2, '0')}.000Z`;

const created = (at: number, members = ['alice', 'bob', 'carol']): ConversationEvent => ({
  type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'group', members, createdBy: 'alice', title: 'Team', at: t(at),
});
const sent = (at: number, senderId: string, clientMsgId: string): ConversationEvent => ({
  type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId, body: `body ${clientMsgId}`, at: t(at),
});
const added = (at: number, by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersAdded', v: 1, conversationId: CID, by, userIds, at: t(at) });
const removed = (at: number, by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersRemoved', v: 1, conversationId: CID, by, userIds, at: t(at) });
const readMarked = (at: number, userId: string, seq: number): ConversationEvent => ({ type: 'ReadMarked', v: 1, conversationId: CID, userId, seq, at: t(at) });

/** The log entries at seq fromSeq+1, fromSeq+2, ... on the subject of CID. */
const log = (fromSeq: number, ...events: Array<ConversationEvent | undefined>): LoggedEvent[] =>
  events.map((event, i) => ({ seq: fromSeq + i + 1, conversationId: CID, event, origin: `node-${fromSeq + i + 1}` }));

/** A group created at seq 1 (time 1) that a previous batch left at seq 10 with 5 messages. */
const existing = (members = ['alice', 'bob', 'carol']): Conversation => ({
  id: CID, kind: 'group', title: 'Team', createdBy: 'alice', createdAt: t(1), members: new Set(members), lastSeq: 10, messageCount: 5,
});

function project(events: LoggedEvent[], state?: Conversation, knownSends: string[] = [], fromSeq = state?.lastSeq ?? 0) {
  const states = new Map<string, ConversationState>(state ? [[CID, state]] : []);
  return projectBatch({ partition: 2, fromSeq, events, states, knownSends: new Set(knownSends) });
}

describe('projectBatch', () => {
  describe('given a creation and three messages in one batch', () => {
    const { writes, deliveries, states } = project(log(0, created(1), sent(2, 'alice', 'm1'), sent(3, 'bob', 'm2'), sent(4, 'alice', 'm3')));
    const members = ['alice', 'bob', 'carol'];

    it('writes one conversation row with the final lastSeq, message count and member count', () => {
      expect(writes.conversations).toEqual([
        expect.objectContaining({
          id: CID, kind: 'group', title: 'Team', createdBy: 'alice', createdAt: t(1), directKey: null,
          lastSeq: 4, messageCount: 3, memberCount: 3, lastActivityAt: t(4),
          lastMessage: expect.objectContaining({ type: 'message', seq: 4, clientMsgId: 'm3' }),
        }),
      ]);
      expect(writes).toMatchObject({ partition: 2, fromSeq: 0, toSeq: 4, rejected: [], memberDeletes: [], readMarkers: [] });
    });

    it('inserts every member', () => {
      expect(writes.memberInserts.map((m) => [m.conversationId, m.userId])).toEqual(members.map((u) => [CID, u]));
    });

    it('writes a timeline row per event, numbering messages densely 1..3', () => {
      expect(writes.timeline.map((r) => [r.seq, r.kind, r.messageNo, r.at])).toEqual([
        [1, 'conversation', null, t(1)],
        [2, 'message', 1, t(2)],
        [3, 'message', 2, t(3)],
        [4, 'message', 3, t(4)],
      ]);
      expect(writes.timeline[1]!.payload).toEqual({
        type: 'message', conversationId: CID, seq: 2, senderId: 'alice', clientMsgId: 'm1', body: 'body m1', sentAt: t(2),
      });
    });

    it('writes an inbox row for every member and every event', () => {
      expect(writes.inbox).toEqual([1, 2, 3, 4].flatMap((seq) => members.map((userId) => ({ userId, seq, conversationId: CID }))));
    });

    it('records each client msg id', () => {
      expect(writes.clientMsgIds).toEqual([
        { senderId: 'alice', clientMsgId: 'm1', conversationId: CID, seq: 2, sentAt: t(2) },
        { senderId: 'bob', clientMsgId: 'm2', conversationId: CID, seq: 3, sentAt: t(3) },
        { senderId: 'alice', clientMsgId: 'm3', conversationId: CID, seq: 4, sentAt: t(4) },
      ]);
    });

    it('delivers every event to all members in seq order, carrying the origin', () => {
      expect(deliveries.map((d) => [d.event.seq, d.event.type, d.recipients, d.origin])).toEqual([
        [1, 'conversation', members, 'node-1'],
        [2, 'message', members, 'node-2'],
        [3, 'message', members, 'node-3'],
        [4, 'message', members, 'node-4'],
      ]);
      expect(deliveries[0]!.event).toMatchObject({ change: 'created', userIds: members, conversation: { id: CID, members, lastSeq: 1 } });
    });

    it('returns the state after the batch', () => {
      expect(states.get(CID)).toMatchObject({ lastSeq: 4, messageCount: 3, members: new Set(members) });
    });
  });

  it('continues the dense message numbers of the stored state', () => {
    const { writes } = project(log(10, sent(11, 'bob', 'x'), sent(12, 'carol', 'y')), existing());
    expect(writes.timeline.map((r) => r.messageNo)).toEqual([6, 7]);
    expect(writes.conversations[0]).toMatchObject({ lastSeq: 12, messageCount: 7 });
  });

  it('leaves out a delivery origin the log entry does not have', () => {
    const { deliveries } = project([{ seq: 11, conversationId: CID, event: sent(11, 'bob', 'x') }], existing());
    expect(deliveries[0]).not.toHaveProperty('origin');
  });

  describe('rejections', () => {
    it('rejects a message from a non-member as FORBIDDEN, writes nothing else for it, and still advances toSeq', () => {
      const { writes, deliveries } = project(log(10, sent(11, 'bob', 'ok'), sent(12, 'mallory', 'evil')), existing());
      expect(writes.rejected).toEqual([{ seq: 12, conversationId: CID, code: 'FORBIDDEN', reason: expect.any(String) }]);
      expect(writes.toSeq).toBe(12);
      expect(writes.timeline.map((r) => r.seq)).toEqual([11]);
      expect(writes.inbox.every((r) => r.seq === 11)).toBe(true);
      expect(writes.clientMsgIds.map((r) => r.clientMsgId)).toEqual(['ok']);
      expect(deliveries.map((d) => d.event.seq)).toEqual([11]);
      expect(writes.conversations[0]).toMatchObject({ lastSeq: 11, messageCount: 6 });
    });

    it('advances toSeq past a batch of only rejected events and writes no conversation row', () => {
      const { writes, deliveries, states } = project(log(10, sent(11, 'mallory', 'a'), undefined), existing());
      expect(writes).toMatchObject({ toSeq: 12, conversations: [], timeline: [], inbox: [], memberInserts: [], memberDeletes: [] });
      expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'FORBIDDEN'], [12, 'MALFORMED']]);
      expect(deliveries).toEqual([]);
      expect(states.size).toBe(0);
    });

    it.each([
      ['an unreadable event', undefined],
      ['an event for another conversation than its subject', { ...sent(11, 'bob', 'x'), conversationId: 'c2' }],
    ])('rejects %s as MALFORMED under the subject conversation', (_, event) => {
      const { writes, deliveries } = project(log(10, event as ConversationEvent | undefined), existing());
      expect(writes.rejected).toEqual([{ seq: 11, conversationId: CID, code: 'MALFORMED', reason: expect.any(String) }]);
      expect(writes).toMatchObject({ toSeq: 11, timeline: [], inbox: [], clientMsgIds: [], conversations: [] });
      expect(deliveries).toEqual([]);
    });

    it('rejects a message whose (sender, clientMsgId) was already projected as DUPLICATE', () => {
      const { writes, deliveries } = project(log(10, sent(11, 'bob', 'm1'), sent(12, 'alice', 'm1')), existing(), [clientMsgKey('bob', 'm1')]);
      expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'DUPLICATE']]);
      expect(writes.timeline.map((r) => [r.seq, r.messageNo])).toEqual([[12, 6]]);
      expect(deliveries.map((d) => d.event.seq)).toEqual([12]);
    });

    it('rejects a message repeated within the batch as DUPLICATE, keeping the first and the dense numbering', () => {
      const { writes } = project(log(10, sent(11, 'bob', 'm1'), sent(12, 'bob', 'm1'), sent(13, 'bob', 'm2')), existing());
      expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'DUPLICATE']]);
      expect(writes.timeline.map((r) => [r.seq, r.messageNo])).toEqual([[11, 6], [13, 7]]);
      expect(writes.clientMsgIds.map((r) => [r.seq, r.clientMsgId])).toEqual([[11, 'm1'], [13, 'm2']]);
      expect(writes.conversations[0]).toMatchObject({ messageCount: 7, lastSeq: 13 });
    });

    it('rejects a second creation of the conversation as CONFLICT', () => {
      const { writes } = project(log(10, created(11)), existing());
      expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'CONFLICT']]);
    });
  });

  describe('MembersRemoved', () => {
    const { writes, deliveries } = project(log(10, removed(11, 'alice', ['bob']), sent(12, 'alice', 'after')), existing());

    it('writes the inbox and delivers to the members before the removal, including the removed', () => {
      expect(writes.inbox.filter((r) => r.seq === 11).map((r) => r.userId)).toEqual(['alice', 'bob', 'carol']);
      expect(deliveries[0]).toMatchObject({
        event: { type: 'conversation', change: 'members_removed', userIds: ['bob'], seq: 11 },
        recipients: ['alice', 'bob', 'carol'],
      });
    });

    it('deletes the removed member and inserts nobody', () => {
      expect(writes.memberDeletes).toEqual([{ conversationId: CID, userId: 'bob' }]);
      expect(writes.memberInserts).toEqual([]);
      expect(writes.conversations[0]).toMatchObject({ memberCount: 2, lastSeq: 12 });
    });

    it('sends a later message of the same batch only to the remaining members', () => {
      expect(writes.inbox.filter((r) => r.seq === 12).map((r) => r.userId)).toEqual(['alice', 'carol']);
      expect(deliveries[1]).toMatchObject({ event: { seq: 12 }, recipients: ['alice', 'carol'] });
    });

    it('rejects a message from the removed member later in the same batch', () => {
      const batch = project(log(10, removed(11, 'alice', ['bob']), sent(12, 'bob', 'late')), existing());
      expect(batch.writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'FORBIDDEN']]);
    });
  });

  describe('ReadMarked', () => {
    const { writes, deliveries } = project(log(10, sent(11, 'alice', 'm'), readMarked(15, 'bob', 11)), existing());

    it('writes the inbox only for the reader, delivers to all members and records the marker', () => {
      expect(writes.inbox.filter((r) => r.seq === 12)).toEqual([{ userId: 'bob', seq: 12, conversationId: CID }]);
      expect(deliveries[1]).toEqual({
        event: { type: 'read', conversationId: CID, userId: 'bob', seq: 11 },
        recipients: ['alice', 'bob', 'carol'],
        origin: 'node-12',
      });
      expect(writes.readMarkers).toEqual([{ conversationId: CID, userId: 'bob', seq: 11 }]);
      expect(writes.timeline[1]).toMatchObject({ seq: 12, kind: 'read', messageNo: null });
    });

    it('does not move lastActivityAt', () => {
      expect(writes.conversations[0]).toMatchObject({ lastSeq: 12, messageCount: 6, lastActivityAt: t(11) });
    });

    it('does not reset lastActivityAt to the creation time in a batch holding only a read marker', () => {
      // The stored conversation was last active after its creation (5 messages); the row
      // is upserted with `last_activity_at = excluded.last_activity_at`.
      const batch = project(log(10, readMarked(20, 'bob', 10)), existing());
      expect(batch.writes.conversations).toHaveLength(1);
      expect(batch.writes.conversations[0]!.lastActivityAt).not.toBe(t(1));
    });
  });

  describe('membership', () => {
    it('writes no member insert or delete for a user added then removed within the batch', () => {
      const { writes } = project(log(10, added(11, 'alice', ['dave']), removed(12, 'alice', ['dave'])), existing());
      expect(writes.memberInserts).toEqual([]);
      expect(writes.memberDeletes).toEqual([]);
      expect(writes.conversations[0]).toMatchObject({ memberCount: 3, lastSeq: 12 });
    });

    it('inserts a user added to the conversation and delivers the addition to all members, the new one included', () => {
      const { writes, deliveries } = project(log(10, added(11, 'bob', ['dave'])), existing());
      expect(writes.memberInserts.map((m) => m.userId)).toEqual(['dave']);
      expect(deliveries[0]).toMatchObject({ event: { change: 'members_added', userIds: ['dave'] }, recipients: ['alice', 'bob', 'carol', 'dave'] });
    });

    it('records joinedSeq as the seq of the event that added each member, whatever the batch boundaries', () => {
      const events = log(0, created(1, ['alice', 'zed']), added(2, 'alice', ['bob']), sent(3, 'bob', 'm'));
      const joined = (rows: Array<{ userId: string; joinedSeq: number }>) => Object.fromEntries(rows.map((m) => [m.userId, m.joinedSeq]));

      const oneBatch = project(events);
      const first = project(events.slice(0, 1));
      const second = project(events.slice(1), first.states.get(CID));

      const split = joined([...first.writes.memberInserts, ...second.writes.memberInserts]);
      expect(joined(oneBatch.writes.memberInserts)).toEqual(split);
      expect(split).toEqual({ alice: 1, zed: 1, bob: 2 });
    });
  });

  it('does not mutate the input states', () => {
    const before = existing();
    const states = new Map<string, ConversationState>([[CID, before]]);
    projectBatch({
      partition: 0, fromSeq: 10, knownSends: new Set(),
      events: log(10, added(11, 'alice', ['dave']), removed(12, 'alice', ['bob']), sent(13, 'alice', 'm'), created(14)),
      states,
    });
    expect(states.size).toBe(1);
    expect(states.get(CID)).toBe(before);
    expect(before).toEqual(existing());
  });
});
