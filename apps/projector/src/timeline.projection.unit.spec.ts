import type { Message } from '@chat/contracts';
import type { Conversation, ConversationEvent, ConversationState } from '@chat/domain';
import { clientMsgKey, messageKey, readerKey, type ProjectionWrites } from '@chat/storage';
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
const readMarked = (at: number, userId: string, upToSeq: number): ConversationEvent => ({ type: 'ReadMarked', v: 2, conversationId: CID, userId, upToSeq, at: t(at) });

/** The log entries at seq fromSeq+1, fromSeq+2, ... on the subject of CID. */
const log = (fromSeq: number, ...events: Array<ConversationEvent | undefined>): LoggedEvent[] =>
  events.map((event, i) => ({ seq: fromSeq + i + 1, conversationId: CID, event, origin: `node-${fromSeq + i + 1}` }));

/** A group created at seq 1 (time 1) that a previous batch left at seq 10 with 5 messages. */
const existing = (members = ['alice', 'bob', 'carol']): Conversation => ({
  id: CID, kind: 'group', title: 'Team', createdBy: 'alice', createdAt: t(1), members: new Set(members), lastSeq: 10, messageCount: 5,
});

/** Large enough that no conversation of a test is pulled unless the test sets it. */
const NO_PULL = 1_000_000;

interface Stored {
  /** Stored messages by `messageKey`. */
  targets?: ReadonlyMap<string, Message>;
  /** Stored read markers by `readerKey`. */
  readMarkers?: ReadonlyMap<string, number>;
  fanoutMax?: number;
}

function project(events: LoggedEvent[], state?: Conversation, knownSends: string[] = [], fromSeq = state?.lastSeq ?? 0, stored: Stored = {}) {
  const states = new Map<string, ConversationState>(state ? [[CID, state]] : []);
  return projectBatch({
    partition: 2, fromSeq, events, states, knownSends: new Set(knownSends),
    targets: stored.targets ?? new Map(), readMarkers: stored.readMarkers ?? new Map(), fanoutMax: stored.fanoutMax ?? NO_PULL,
  });
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
        room: false,
      });
      expect(writes.readMarkers).toEqual([{ conversationId: CID, userId: 'bob', seq: 11 }]);
      expect(writes.timeline[1]).toMatchObject({ seq: 12, kind: 'read', messageNo: null });
    });

    it('does not move lastActivityAt', () => {
      expect(writes.conversations[0]).toMatchObject({ lastSeq: 11, messageCount: 6, lastActivityAt: t(11) });
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
      states, targets: new Map(), readMarkers: new Map(), fanoutMax: NO_PULL,
    });
    expect(states.size).toBe(1);
    expect(states.get(CID)).toBe(before);
    expect(before).toEqual(existing());
  });
});

/* ---- edits, deletes, reactions, forward-only markers, hybrid fan-out, membership periods ---- */

const edited = (at: number, by: string, targetSeq: number, body = `edit ${at}`): ConversationEvent => ({
  type: 'MessageEdited', v: 1, conversationId: CID, by, targetSeq, body, at: t(at),
});
const deleted = (at: number, by: string, targetSeq: number): ConversationEvent => ({ type: 'MessageDeleted', v: 1, conversationId: CID, by, targetSeq, at: t(at) });
const reacted = (at: number, userId: string, targetSeq: number, emoji = '👍'): ConversationEvent => ({
  type: 'ReactionAdded', v: 1, conversationId: CID, userId, targetSeq, emoji, at: t(at),
});
const unreacted = (at: number, userId: string, targetSeq: number, emoji = '👍'): ConversationEvent => ({
  type: 'ReactionRemoved', v: 1, conversationId: CID, userId, targetSeq, emoji, at: t(at),
});

/** bob's message at seq 5, as stored by an earlier batch. */
const storedMessage = (extra: Partial<Message> = {}): Message => ({
  type: 'message', conversationId: CID, seq: 5, senderId: 'bob', clientMsgId: 'old', body: 'original', sentAt: t(5), ...extra,
});
const targetsOf = (...messages: Message[]) => new Map(messages.map((m) => [messageKey(m.conversationId, m.seq), m]));
const markersOf = (entries: Array<[string, string, number]>) => new Map(entries.map(([c, u, seq]) => [readerKey(c, u), seq]));

const inboxOf = (writes: ProjectionWrites, seq: number) => writes.inbox.filter((r) => r.seq === seq).map((r) => r.userId);
const rowAt = (writes: ProjectionWrites, seq: number) => writes.timeline.find((r) => r.seq === seq);

describe('projectBatch: hybrid fan-out', () => {
  describe('given a group of 3 growing to fanoutMax 5 and shrinking back within one batch', () => {
    const { writes, deliveries } = project(
      log(10,
        sent(11, 'alice', 'a'),
        added(12, 'alice', ['dave']),
        sent(13, 'bob', 'b'),
        added(14, 'alice', ['erin']),
        sent(15, 'bob', 'c'),
        readMarked(16, 'bob', 15),
        removed(17, 'alice', ['erin']),
        sent(18, 'carol', 'd'),
      ),
      existing(), [], 10, { fanoutMax: 5 },
    );
    const four = ['alice', 'bob', 'carol', 'dave'];

    it.each<[number, string, boolean, string[]]>([
      [11, '3 members: push', false, ['alice', 'bob', 'carol']],
      [12, 'the addition that makes 4 (fanoutMax - 1): push, the new member included', false, four],
      [13, '4 members: push', false, four],
      [14, 'the addition that makes 5 (= fanoutMax): pulled, no inbox row', true, []],
      [15, '5 members: pulled, no inbox row', true, []],
      [16, 'a read marker at 5 members: never pulled, the reader\'s inbox only', false, ['bob']],
      [17, 'the removal that makes 4: push again, to every member before it', false, [...four, 'erin']],
      [18, '4 members again: push', false, four],
    ])('seq %i, %s', (seq, _, pulled, inbox) => {
      expect(rowAt(writes, seq)).toMatchObject({ seq, pulled });
      expect(inboxOf(writes, seq)).toEqual(inbox);
    });

    it('still delivers every event live to the members', () => {
      // A read event's seq is the marker (15), not its position in the log.
      expect(deliveries.map((d) => [d.event.type, d.event.seq, d.recipients.length])).toEqual([
        ['message', 11, 3], ['conversation', 12, 4], ['message', 13, 4], ['conversation', 14, 5], ['message', 15, 5],
        ['read', 15, 5], ['conversation', 17, 5], ['message', 18, 4],
      ]);
    });

    it('marks the conversation everPulled', () => {
      expect(writes.conversations[0]).toMatchObject({ everPulled: true, memberCount: 4, lastSeq: 18 });
    });
  });

  it('switches at the exact event whose member count reaches fanoutMax, when several users are added at once', () => {
    const { writes } = project(log(10, added(11, 'alice', ['dave', 'erin']), sent(12, 'dave', 'x')), existing(), [], 10, { fanoutMax: 5 });
    expect(writes.timeline.map((r) => [r.seq, r.pulled])).toEqual([[11, true], [12, true]]);
    expect(writes.inbox).toEqual([]);
  });

  it('writes no inbox row for a group created at fanoutMax members, and pulls every event of it', () => {
    const { writes } = project(log(0, created(1), sent(2, 'alice', 'm')), undefined, [], 0, { fanoutMax: 3 });
    expect(writes.inbox).toEqual([]);
    expect(writes.timeline.map((r) => [r.seq, r.pulled])).toEqual([[1, true], [2, true]]);
    expect(writes.conversations[0]).toMatchObject({ everPulled: true, memberCount: 3 });
    expect(writes.memberInserts.map((m) => [m.userId, m.joinedSeq])).toEqual([['alice', 1], ['bob', 1], ['carol', 1]]);
  });

  it('pushes a group created one member below fanoutMax and leaves everPulled false', () => {
    const { writes } = project(log(0, created(1), sent(2, 'alice', 'm')), undefined, [], 0, { fanoutMax: 4 });
    expect(writes.timeline.map((r) => [r.seq, r.pulled])).toEqual([[1, false], [2, false]]);
    expect(writes.inbox).toHaveLength(6);
    expect(writes.conversations[0]!.everPulled).toBe(false);
  });

  describe('MembersRemoved in pull mode', () => {
    const five = ['alice', 'bob', 'carol', 'dave', 'erin'];

    it('writes inbox rows only for the removed users, and a pulled timeline row', () => {
      const { writes, deliveries } = project(log(10, removed(11, 'alice', ['dave', 'erin'])), existing(five), [], 10, { fanoutMax: 3 });
      expect(writes.inbox).toEqual([
        { userId: 'dave', seq: 11, conversationId: CID },
        { userId: 'erin', seq: 11, conversationId: CID },
      ]);
      expect(rowAt(writes, 11)).toMatchObject({ kind: 'conversation', pulled: true });
      expect(deliveries[0]!.recipients).toEqual(five);
      expect(writes.conversations[0]).toMatchObject({ everPulled: true, memberCount: 3 });
    });

    it('writes the inbox row of a member who leaves by itself', () => {
      const { writes } = project(log(10, removed(11, 'erin', ['erin'])), existing(five), [], 10, { fanoutMax: 4 });
      expect(writes.inbox).toEqual([{ userId: 'erin', seq: 11, conversationId: CID }]);
      expect(rowAt(writes, 11)!.pulled).toBe(true);
    });
  });

  describe('ReadMarked in a pulled conversation', () => {
    const { writes } = project(log(10, readMarked(11, 'carol', 10)), existing(), [], 10, { fanoutMax: 2 });

    it('is never pulled and goes to the reader\'s inbox only', () => {
      expect(writes.timeline).toEqual([expect.objectContaining({ seq: 11, kind: 'read', pulled: false, targetSeq: null })]);
      expect(writes.inbox).toEqual([{ userId: 'carol', seq: 11, conversationId: CID }]);
    });

    it('does not set everPulled for a batch that pulled nothing', () => {
      expect(writes.conversations[0]!.everPulled).toBe(false);
    });
  });

  it('pulls edits and reactions of a large conversation too', () => {
    const { writes } = project(log(10, edited(11, 'bob', 5), reacted(12, 'alice', 5)), existing(), [], 10, { fanoutMax: 3, targets: targetsOf(storedMessage()) });
    expect(writes.timeline.map((r) => [r.seq, r.pulled])).toEqual([[11, true], [12, true]]);
    expect(writes.inbox).toEqual([]);
    expect(writes.conversations[0]!.everPulled).toBe(true);
  });
});

describe('projectBatch: membership periods', () => {
  it('opens a period for every member at creation', () => {
    const { writes } = project(log(0, created(1)));
    expect(writes.periodInserts).toEqual(['alice', 'bob', 'carol'].map((userId) => ({ conversationId: CID, userId, joinedSeq: 1, leftSeq: null })));
    expect(writes.periodCloses).toEqual([]);
  });

  it('opens a period for each added user at the seq of the addition', () => {
    const { writes } = project(log(10, sent(11, 'bob', 'x'), added(12, 'bob', ['dave', 'erin'])), existing());
    expect(writes.periodInserts).toEqual([
      { conversationId: CID, userId: 'dave', joinedSeq: 12, leftSeq: null },
      { conversationId: CID, userId: 'erin', joinedSeq: 12, leftSeq: null },
    ]);
    expect(writes.periodCloses).toEqual([]);
  });

  it('closes the stored open period of a removed member at the seq of the removal', () => {
    const { writes } = project(log(10, removed(11, 'alice', ['bob', 'carol'])), existing());
    expect(writes.periodCloses).toEqual([
      { conversationId: CID, userId: 'bob', leftSeq: 11 },
      { conversationId: CID, userId: 'carol', leftSeq: 11 },
    ]);
    expect(writes.periodInserts).toEqual([]);
  });

  it('writes one closed period for a user added then removed within the batch, and closes nothing stored', () => {
    const { writes } = project(log(10, added(11, 'alice', ['dave']), removed(12, 'alice', ['dave'])), existing());
    expect(writes.periodInserts).toEqual([{ conversationId: CID, userId: 'dave', joinedSeq: 11, leftSeq: 12 }]);
    expect(writes.periodCloses).toEqual([]);
  });

  it('writes one closed and one open period for a user added, removed and added again within the batch', () => {
    const { writes } = project(log(10, added(11, 'alice', ['dave']), removed(12, 'dave', ['dave']), added(13, 'bob', ['dave'])), existing());
    expect(writes.periodInserts).toEqual([
      { conversationId: CID, userId: 'dave', joinedSeq: 11, leftSeq: 12 },
      { conversationId: CID, userId: 'dave', joinedSeq: 13, leftSeq: null },
    ]);
    expect(writes.periodCloses).toEqual([]);
    expect(writes.memberInserts).toEqual([{ conversationId: CID, userId: 'dave', joinedSeq: 13 }]);
    expect(writes.memberDeletes).toEqual([]);
  });

  it('closes the stored period and opens a new one for a member removed and added again within the batch', () => {
    const { writes } = project(log(10, removed(11, 'alice', ['bob']), added(12, 'alice', ['bob'])), existing());
    expect(writes.periodCloses).toEqual([{ conversationId: CID, userId: 'bob', leftSeq: 11 }]);
    expect(writes.periodInserts).toEqual([{ conversationId: CID, userId: 'bob', joinedSeq: 12, leftSeq: null }]);
  });

  it.each([1, 2, 3])('gives the same periods whatever the batch boundaries (split after event %i)', (split) => {
    const events = log(10, added(11, 'alice', ['dave']), removed(12, 'dave', ['dave']), added(13, 'bob', ['dave']), removed(14, 'alice', ['bob']));
    const whole = applyPeriods([project(events, existing())]);
    const first = project(events.slice(0, split), existing());
    const second = project(events.slice(split), first.states.get(CID), [], 10 + split);
    expect(applyPeriods([first, second])).toEqual(whole);
    expect(whole).toEqual([
      'bob 1-14',
      'dave 11-12',
      'dave 13-open',
    ]);
  });

  // Two gateways deciding on the same cached state can both append an addition (or a
  // removal) of the same user; at its place in the log the second one changes nothing.
  it('refuses as CONFLICT and opens no second period for a MembersAdded naming a user who is already a member', () => {
    const { writes } = project(log(10, added(11, 'alice', ['bob'])), existing());
    expect(writes.rejected).toEqual([expect.objectContaining({ seq: 11, code: 'CONFLICT' })]);
    expect(writes.periodInserts).toEqual([]);
  });

  it('closes a stored period once when two MembersRemoved of the same user are in one batch', () => {
    const { writes } = project(log(10, removed(11, 'alice', ['bob']), removed(12, 'alice', ['bob'])), existing());
    expect(writes.periodCloses).toEqual([{ conversationId: CID, userId: 'bob', leftSeq: 11 }]);
  });

  it.each([0, 1])('gives one period from the first addition to a user added twice, whatever the batch boundaries (split after %i)', (split) => {
    const events = log(10, added(11, 'alice', ['dave']), added(12, 'bob', ['dave']));
    const first = project(events.slice(0, split), existing());
    const second = project(events.slice(split), first.states.get(CID) ?? existing(), [], 10 + split);
    expect(applyPeriods([first, second])).toEqual(['dave 11-open']);
  });

  /** The periods table after the batches, as the repository applies them (closes first, then inserts). */
  function applyPeriods(batches: Array<ReturnType<typeof project>>): string[] {
    const rows = ['alice', 'bob', 'carol'].map((userId) => ({ userId, joinedSeq: 1, leftSeq: null as number | null }));
    for (const { writes } of batches) {
      for (const c of writes.periodCloses) for (const r of rows) if (r.userId === c.userId && r.leftSeq === null) r.leftSeq = c.leftSeq;
      for (const i of writes.periodInserts) {
        if (!rows.some((r) => r.userId === i.userId && r.joinedSeq === i.joinedSeq)) rows.push({ userId: i.userId, joinedSeq: i.joinedSeq, leftSeq: i.leftSeq });
      }
    }
    // The periods the batches changed or added: every row but the untouched ones of the stored members.
    return rows.filter((r) => r.joinedSeq !== 1 || r.leftSeq !== null)
      .map((r) => `${r.userId} ${r.joinedSeq}-${r.leftSeq ?? 'open'}`).sort();
  }
});

describe('projectBatch: edits, deletes and reactions on a stored message', () => {
  it('folds an edit by the author into a message update and writes a message:edited row and event', () => {
    const targets = targetsOf(storedMessage());
    const { writes, deliveries } = project(log(10, edited(11, 'bob', 5, 'better')), existing(), [], 10, { targets });
    expect(writes.messageUpdates).toEqual([{ conversationId: CID, seq: 5, payload: { ...storedMessage(), body: 'better', editedAt: t(11) }, changedSeq: 11 }]);
    const event = { type: 'message:edited', conversationId: CID, seq: 11, targetSeq: 5, body: 'better', editedAt: t(11) };
    expect(writes.timeline).toEqual([{ conversationId: CID, seq: 11, kind: 'message:edited', payload: event, at: t(11), messageNo: null, targetSeq: 5, pulled: false, changedSeq: null }]);
    expect(deliveries).toEqual([{ event, recipients: ['alice', 'bob', 'carol'], origin: 'node-11', room: false }]);
    expect(inboxOf(writes, 11)).toEqual(['alice', 'bob', 'carol']);
    expect(writes.scrubEdits).toEqual([]);
    expect(targets.get(messageKey(CID, 5))).toEqual(storedMessage());
  });

  it('folds every reaction of the batch into one message update, in log order, and emits reaction events', () => {
    const { writes, deliveries } = project(
      log(10, reacted(11, 'alice', 5), reacted(12, 'carol', 5), reacted(13, 'carol', 5, '🎉'), unreacted(14, 'alice', 5)),
      existing(), [], 10, { targets: targetsOf(storedMessage()) },
    );
    expect(writes.rejected).toEqual([]);
    // Changed last by the reaction at 14: what sync compares with a removed member's leave.
    expect(writes.messageUpdates).toEqual([{ conversationId: CID, seq: 5, payload: { ...storedMessage(), reactions: { '👍': ['carol'], '🎉': ['carol'] } }, changedSeq: 14 }]);
    expect(deliveries.map((d) => d.event)).toEqual([
      { type: 'reaction', conversationId: CID, seq: 11, targetSeq: 5, userId: 'alice', emoji: '👍', op: 'add' },
      { type: 'reaction', conversationId: CID, seq: 12, targetSeq: 5, userId: 'carol', emoji: '👍', op: 'add' },
      { type: 'reaction', conversationId: CID, seq: 13, targetSeq: 5, userId: 'carol', emoji: '🎉', op: 'add' },
      { type: 'reaction', conversationId: CID, seq: 14, targetSeq: 5, userId: 'alice', emoji: '👍', op: 'remove' },
    ]);
    expect(writes.timeline.map((r) => [r.seq, r.kind, r.targetSeq, r.messageNo])).toEqual([
      [11, 'reaction', 5, null], [12, 'reaction', 5, null], [13, 'reaction', 5, null], [14, 'reaction', 5, null],
    ]);
  });

  it('drops the reactions field when the last reaction is removed', () => {
    const { writes } = project(log(10, unreacted(11, 'alice', 5)), existing(), [], 10, { targets: targetsOf(storedMessage({ reactions: { '👍': ['alice'] } })) });
    expect(writes.messageUpdates).toEqual([{ conversationId: CID, seq: 5, payload: storedMessage(), changedSeq: 11 }]);
    expect(writes.messageUpdates[0]!.payload).not.toHaveProperty('reactions');
  });

  it('empties a deleted message, drops its reactions and editedAt, and scrubs its earlier edits', () => {
    const targets = targetsOf(storedMessage({ body: 'edited before', editedAt: t(7), reactions: { '👍': ['alice', 'carol'] } }));
    const { writes, deliveries } = project(log(10, deleted(11, 'alice', 5)), existing(), [], 10, { targets });
    expect(writes.messageUpdates).toEqual([
      { conversationId: CID, seq: 5, payload: { type: 'message', conversationId: CID, seq: 5, senderId: 'bob', clientMsgId: 'old', body: '', sentAt: t(5), deleted: true }, changedSeq: 11 },
    ]);
    expect(writes.scrubEdits).toEqual([{ conversationId: CID, targetSeq: 5, seq: 11 }]);
    const event = { type: 'message:deleted', conversationId: CID, seq: 11, targetSeq: 5 };
    expect(writes.timeline).toEqual([{ conversationId: CID, seq: 11, kind: 'message:deleted', payload: event, at: t(11), messageNo: null, targetSeq: 5, pulled: false, changedSeq: null }]);
    expect(deliveries.map((d) => d.event)).toEqual([event]);
  });

  it('scrubs the body of the batch\'s own edit rows of a message it deletes', () => {
    const { writes } = project(log(10, edited(11, 'bob', 5, 'secret'), sent(12, 'carol', 'x'), deleted(13, 'bob', 5)), existing(), [], 10, { targets: targetsOf(storedMessage()) });
    expect(rowAt(writes, 11)!.payload).toEqual({ type: 'message:edited', conversationId: CID, seq: 11, targetSeq: 5, body: '', editedAt: t(11) });
    // The scrubbed edit row was changed by the delete; the other message's row was not changed.
    expect(rowAt(writes, 11)!.changedSeq).toBe(13);
    expect(rowAt(writes, 12)!.changedSeq).toBeNull();
    expect(writes.messageUpdates.map((u) => u.payload)).toEqual([expect.objectContaining({ seq: 5, body: '', deleted: true })]);
    expect(writes.messageUpdates[0]!.payload).not.toHaveProperty('editedAt');
    expect(writes.scrubEdits).toEqual([{ conversationId: CID, targetSeq: 5, seq: 13 }]);
    expect(JSON.stringify(writes.timeline)).not.toContain('secret');
  });

  it('leaves the edit rows of other messages alone when it deletes one', () => {
    const targets = targetsOf(storedMessage(), storedMessage({ seq: 6, clientMsgId: 'old2', body: 'other' }));
    const { writes } = project(log(10, edited(11, 'bob', 6, 'kept'), deleted(12, 'bob', 5)), existing(), [], 10, { targets });
    expect(rowAt(writes, 11)!.payload).toMatchObject({ targetSeq: 6, body: 'kept' });
    expect(writes.messageUpdates.find((u) => u.seq === 6)!.payload).toMatchObject({ body: 'kept', editedAt: t(11) });
  });

  it.each<[string, ConversationEvent[], Message[], string]>([
    ['an edit of a message that is not stored', [edited(11, 'bob', 5)], [], 'NOT_FOUND'],
    ['an edit of a stored message of another conversation at the same seq', [edited(11, 'bob', 5)], [storedMessage({ conversationId: 'c2' })], 'NOT_FOUND'],
    ['an edit of a message deleted earlier', [edited(11, 'bob', 5)], [storedMessage({ deleted: true, body: '' })], 'NOT_FOUND'],
    ['a reaction to a message deleted earlier', [reacted(11, 'alice', 5)], [storedMessage({ deleted: true, body: '' })], 'NOT_FOUND'],
    ['an edit by another member than the author', [edited(11, 'carol', 5)], [storedMessage()], 'FORBIDDEN'],
    ['an edit by the group creator of another member\'s message', [edited(11, 'alice', 5)], [storedMessage()], 'FORBIDDEN'],
    ['a delete by a member who is neither author nor creator', [deleted(11, 'carol', 5)], [storedMessage()], 'FORBIDDEN'],
    ['a reaction by a non-member', [reacted(11, 'mallory', 5)], [storedMessage()], 'FORBIDDEN'],
    ['a reaction the user already made', [reacted(11, 'alice', 5)], [storedMessage({ reactions: { '👍': ['alice'] } })], 'CONFLICT'],
    ['a removal of a reaction the user did not make', [unreacted(11, 'carol', 5)], [storedMessage({ reactions: { '👍': ['alice'] } })], 'CONFLICT'],
    ['a removal from a message without reactions', [unreacted(11, 'carol', 5)], [storedMessage()], 'CONFLICT'],
  ])('rejects %s as %s and changes nothing', (_, events, stored, code) => {
    const targets = targetsOf(...stored);
    const snapshot = structuredClone([...targets]);
    const { writes, deliveries, states } = project(log(10, ...events), existing(), [], 10, { targets });
    expect(writes.rejected).toEqual([{ seq: 11, conversationId: CID, code, reason: expect.any(String) }]);
    expect(writes).toMatchObject({ toSeq: 11, timeline: [], inbox: [], messageUpdates: [], scrubEdits: [], conversations: [] });
    expect(deliveries).toEqual([]);
    expect(states.size).toBe(0);
    expect([...targets]).toEqual(snapshot);
  });

  it('rejects an edit by a non-author as FORBIDDEN and keeps the body for the author\'s later edit and a reaction', () => {
    const { writes } = project(log(10, edited(11, 'carol', 5, 'hijack'), reacted(12, 'carol', 5), edited(13, 'bob', 5, 'mine')), existing(), [], 10, {
      targets: targetsOf(storedMessage()),
    });
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'FORBIDDEN']]);
    expect(writes.messageUpdates).toEqual([{ conversationId: CID, seq: 5, payload: { ...storedMessage(), body: 'mine', editedAt: t(13), reactions: { '👍': ['carol'] } }, changedSeq: 13 }]);
    expect(JSON.stringify(writes)).not.toContain('hijack');
  });

  it('rejects a second identical reaction within the batch as CONFLICT and keeps the first', () => {
    const { writes, deliveries } = project(log(10, reacted(11, 'alice', 5, '🎉'), reacted(12, 'alice', 5, '🎉'), unreacted(13, 'carol', 5, '🎉')), existing(), [], 10, {
      targets: targetsOf(storedMessage({ reactions: { '👍': ['alice'] } })),
    });
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'CONFLICT'], [13, 'CONFLICT']]);
    expect(writes.messageUpdates[0]!.payload.reactions).toEqual({ '👍': ['alice'], '🎉': ['alice'] });
    expect(deliveries.map((d) => d.event.seq)).toEqual([11]);
  });

  it.each<[string, ConversationEvent]>([
    ['an edit', edited(12, 'bob', 5)],
    ['a reaction', reacted(12, 'alice', 5)],
    ['a second delete', deleted(12, 'alice', 5)],
  ])('rejects %s after a delete in the same batch as NOT_FOUND', (_, event) => {
    const { writes } = project(log(10, deleted(11, 'bob', 5), event), existing(), [], 10, { targets: targetsOf(storedMessage()) });
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'NOT_FOUND']]);
    expect(writes.messageUpdates).toHaveLength(1);
    expect(writes.messageUpdates[0]!.payload).toMatchObject({ deleted: true, body: '' });
  });
});

describe('projectBatch: edits, deletes and reactions on a message sent in the same batch', () => {
  it('folds an edit into the batch\'s own timeline row, writes no message update, and delivers the message as sent', () => {
    const { writes, deliveries } = project(log(10, sent(11, 'bob', 'm'), edited(12, 'bob', 11, 'better')), existing());
    expect(rowAt(writes, 11)!.payload).toEqual({
      type: 'message', conversationId: CID, seq: 11, senderId: 'bob', clientMsgId: 'm', body: 'better', sentAt: t(11), editedAt: t(12),
    });
    expect(writes.messageUpdates).toEqual([]);
    expect(rowAt(writes, 11)!.changedSeq).toBe(12);
    expect(deliveries[0]!.event).toEqual({ type: 'message', conversationId: CID, seq: 11, senderId: 'bob', clientMsgId: 'm', body: 'body m', sentAt: t(11) });
    expect(deliveries[1]!.event).toEqual({ type: 'message:edited', conversationId: CID, seq: 12, targetSeq: 11, body: 'better', editedAt: t(12) });
    expect(rowAt(writes, 12)).toMatchObject({ kind: 'message:edited', targetSeq: 11, messageNo: null });
  });

  it('keeps the delivered message a separate copy from the stored row', () => {
    const { writes, deliveries } = project(log(10, sent(11, 'bob', 'm')), existing());
    expect(deliveries[0]!.event).toEqual(rowAt(writes, 11)!.payload);
    expect(deliveries[0]!.event).not.toBe(rowAt(writes, 11)!.payload);
  });

  it('folds reactions into the batch\'s own timeline row and the conversation\'s last message', () => {
    const { writes } = project(log(10, sent(11, 'bob', 'm'), reacted(12, 'alice', 11), reacted(13, 'carol', 11)), existing());
    expect(rowAt(writes, 11)!.payload).toMatchObject({ seq: 11, reactions: { '👍': ['alice', 'carol'] } });
    expect(writes.conversations[0]!.lastMessage).toMatchObject({ seq: 11, reactions: { '👍': ['alice', 'carol'] } });
    expect(writes.messageUpdates).toEqual([]);
  });

  it('empties a message deleted in its own batch, scrubs the batch\'s edit rows, and delivers the message as sent', () => {
    const { writes, deliveries } = project(
      log(10, sent(11, 'bob', 'm'), edited(12, 'bob', 11, 'secret'), reacted(13, 'alice', 11), deleted(14, 'bob', 11)),
      existing(),
    );
    expect(rowAt(writes, 11)!.payload).toEqual({ type: 'message', conversationId: CID, seq: 11, senderId: 'bob', clientMsgId: 'm', body: '', sentAt: t(11), deleted: true });
    expect(rowAt(writes, 12)!.payload).toMatchObject({ type: 'message:edited', targetSeq: 11, body: '' });
    expect([rowAt(writes, 11)!.changedSeq, rowAt(writes, 12)!.changedSeq, rowAt(writes, 13)!.changedSeq]).toEqual([14, 14, null]);
    expect(writes.scrubEdits).toEqual([{ conversationId: CID, targetSeq: 11, seq: 14 }]);
    expect(writes.messageUpdates).toEqual([]);
    expect(writes.conversations[0]!.lastMessage).toMatchObject({ seq: 11, body: '', deleted: true });
    expect(deliveries[0]!.event).toMatchObject({ type: 'message', seq: 11, body: 'body m' });
    expect(deliveries[3]!.event).toEqual({ type: 'message:deleted', conversationId: CID, seq: 14, targetSeq: 11 });
  });

  it('rejects an edit by a non-author as FORBIDDEN and leaves the row as sent', () => {
    const { writes, deliveries } = project(log(10, sent(11, 'bob', 'm'), edited(12, 'carol', 11, 'hijack')), existing());
    expect(writes.rejected).toEqual([{ seq: 12, conversationId: CID, code: 'FORBIDDEN', reason: expect.any(String) }]);
    expect(rowAt(writes, 11)!.payload).toEqual({ type: 'message', conversationId: CID, seq: 11, senderId: 'bob', clientMsgId: 'm', body: 'body m', sentAt: t(11) });
    expect(rowAt(writes, 11)!.changedSeq).toBeNull();
    expect(writes.timeline.map((r) => r.seq)).toEqual([11]);
    expect(deliveries.map((d) => d.event.seq)).toEqual([11]);
    expect(writes.conversations[0]).toMatchObject({ lastSeq: 11 });
  });

  it('rejects a change targeting a non-message event of the batch as NOT_FOUND', () => {
    const { writes } = project(log(10, added(11, 'alice', ['dave']), reacted(12, 'alice', 11)), existing());
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'NOT_FOUND']]);
  });

  it('rejects a second identical reaction within the batch as CONFLICT', () => {
    const { writes } = project(log(10, sent(11, 'bob', 'm'), reacted(12, 'alice', 11), reacted(13, 'alice', 11)), existing());
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[13, 'CONFLICT']]);
    expect(rowAt(writes, 11)!.payload).toMatchObject({ reactions: { '👍': ['alice'] } });
  });
});

describe('projectBatch: targetSeq on timeline rows', () => {
  it('is null on every row that does not change a message, and the target on those that do', () => {
    const { writes } = project(
      log(10, sent(11, 'bob', 'm'), added(12, 'alice', ['dave']), edited(13, 'bob', 11), reacted(14, 'dave', 11), unreacted(15, 'dave', 11),
        readMarked(16, 'carol', 15), deleted(17, 'bob', 11), removed(18, 'alice', ['dave'])),
      existing(),
    );
    expect(writes.rejected).toEqual([]);
    expect(writes.timeline.map((r) => [r.seq, r.kind, r.targetSeq])).toEqual([
      [11, 'message', null], [12, 'conversation', null], [13, 'message:edited', 11], [14, 'reaction', 11],
      [15, 'reaction', 11], [16, 'read', null], [17, 'message:deleted', 11], [18, 'conversation', null],
    ]);
  });
});

describe('projectBatch: lastActivityAt', () => {
  it.each<[string, ConversationEvent, number]>([
    ['a read marker', readMarked(11, 'bob', 10), 10],
    ['an edit', edited(11, 'bob', 5), 11],
    ['a reaction', reacted(11, 'carol', 5), 11],
    ['a reaction removed', unreacted(11, 'alice', 5), 11],
  ])('is not moved by %s, and neither is the last message', (_, event, lastSeq) => {
    const { writes } = project(log(10, event), existing(), [], 10, { targets: targetsOf(storedMessage({ reactions: { '👍': ['alice'] } })) });
    expect(writes.rejected).toEqual([]);
    expect(writes.conversations).toHaveLength(1);
    expect(writes.conversations[0]).not.toHaveProperty('lastActivityAt');
    expect(writes.conversations[0]).not.toHaveProperty('lastMessage');
    // Reading is not news: lastSeq stays at the last change to the conversation.
    expect(writes.conversations[0]).toMatchObject({ lastSeq });
  });

  it('stays at the last message when reads, edits and reactions follow it in the batch', () => {
    const { writes } = project(log(10, sent(11, 'bob', 'm'), edited(12, 'bob', 11), reacted(13, 'alice', 11), readMarked(14, 'carol', 13)), existing());
    expect(writes.conversations[0]).toMatchObject({ lastSeq: 13, lastActivityAt: t(11) });
  });
});

describe('projectBatch: forward-only read markers', () => {
  it.each<[string, number | undefined, number, boolean]>([
    ['a first marker', undefined, 1, true],
    ['a marker above the stored one', 11, 12, true],
    ['a marker equal to the stored one', 11, 11, false],
    ['a marker below the stored one', 11, 9, false],
    ['a marker at 0 with none stored', undefined, 0, false],
  ])('%s: accepted %p', (_, storedMarker, upToSeq, accepted) => {
    const readMarkers = markersOf(storedMarker === undefined ? [] : [[CID, 'bob', storedMarker]]);
    const { writes, deliveries } = project(log(12, readMarked(13, 'bob', upToSeq)), { ...existing(), lastSeq: 12 }, [], 12, { readMarkers });
    if (accepted) {
      expect(writes.rejected).toEqual([]);
      expect(writes.readMarkers).toEqual([{ conversationId: CID, userId: 'bob', seq: upToSeq }]);
      expect(deliveries).toHaveLength(1);
    } else {
      expect(writes.rejected).toEqual([{ seq: 13, conversationId: CID, code: 'NO_CHANGE', reason: expect.any(String) }]);
      expect(writes).toMatchObject({ toSeq: 13, readMarkers: [], timeline: [], inbox: [], conversations: [] });
      expect(deliveries).toEqual([]);
    }
  });

  it('rejects a repeated or backwards marker within the batch as NO_CHANGE, after the first one moved it', () => {
    const { writes } = project(log(10, readMarked(11, 'bob', 8), readMarked(12, 'bob', 8), readMarked(13, 'bob', 6), readMarked(14, 'bob', 10)), existing(), [], 10, {
      readMarkers: markersOf([[CID, 'bob', 4]]),
    });
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[12, 'NO_CHANGE'], [13, 'NO_CHANGE']]);
    expect(writes.readMarkers).toEqual([
      { conversationId: CID, userId: 'bob', seq: 8 },
      { conversationId: CID, userId: 'bob', seq: 10 },
    ]);
    expect(writes.timeline.map((r) => r.seq)).toEqual([11, 14]);
    expect(writes.conversations[0]).toMatchObject({ lastSeq: 10 });
  });

  it('gives a member removed and added again the same verdict on its next marker whatever the batch boundaries', () => {
    // bob had read up to 10; the repository deletes the member row (and its marker) on a
    // removal and inserts a fresh one (marker 0) on an addition.
    const events = log(10, removed(11, 'alice', ['bob']), added(12, 'alice', ['bob']), readMarked(13, 'bob', 8));
    const readMarkers = markersOf([[CID, 'bob', 10]]);
    const whole = project(events, existing(), [], 10, { readMarkers });
    const first = project(events.slice(0, 1), existing(), [], 10, { readMarkers });
    const kept = first.writes.memberDeletes.some((m) => m.userId === 'bob') ? new Map<string, number>() : readMarkers;
    const second = project(events.slice(1), first.states.get(CID), [], 11, { readMarkers: kept });
    expect(whole.writes.rejected.map((r) => [r.seq, r.code])).toEqual(second.writes.rejected.map((r) => [r.seq, r.code]));
  });

  it('keeps markers per reader and per conversation', () => {
    const { writes } = project(log(10, readMarked(11, 'carol', 5), readMarked(12, 'bob', 6)), existing(), [], 10, {
      readMarkers: markersOf([[CID, 'bob', 5], ['c2', 'carol', 9], ['c2', 'bob', 9]]),
    });
    expect(writes.rejected).toEqual([]);
    expect(writes.readMarkers.map((m) => [m.userId, m.seq])).toEqual([['carol', 5], ['bob', 6]]);
  });
});

describe('projectBatch: a read marker past the end of the conversation', () => {
  it('lands on the conversation\'s last seq at the place it is sequenced, not further', () => {
    // existing(): last seq 10; the marker asks for 99.
    const { writes, deliveries } = project(log(10, readMarked(11, 'bob', 99)), existing());
    expect(writes.readMarkers).toEqual([{ conversationId: CID, userId: 'bob', seq: 10 }]);
    expect(deliveries[0]!.event).toEqual({ type: 'read', conversationId: CID, userId: 'bob', seq: 10 });
  });

  it('then refuses a second "all read" at the same end as NO_CHANGE', () => {
    const { writes } = project(log(10, readMarked(11, 'bob', 99), readMarked(12, 'bob', 99)), existing());
    expect(writes.rejected).toEqual([{ seq: 12, conversationId: CID, code: 'NO_CHANGE', reason: expect.any(String) }]);
  });
});

describe('projectBatch: live delivery of large conversations through rooms', () => {
  // fanoutMax 5: existing() has 3 members.
  const opts = { fanoutMax: 5 };

  it('sends the event that makes a conversation large to its room, after every member joins it', () => {
    const { deliveries } = project(log(10, added(11, 'alice', ['dave', 'erin']), sent(12, 'bob', 'm')), existing(), [], 10, opts);
    expect(deliveries.map((d) => [d.room, d.joiners])).toEqual([
      [true, ['alice', 'bob', 'carol', 'dave', 'erin']],
      [true, undefined],
    ]);
  });

  it('has only the new members join when a large conversation grows', () => {
    const { deliveries } = project(log(10, added(11, 'alice', ['dave', 'erin']), added(12, 'alice', ['fay'])), existing(), [], 10, opts);
    expect(deliveries[1]!.joiners).toEqual(['fay']);
  });

  it('goes back to per-node delivery, to everyone who was a member, once it is small again', () => {
    const { deliveries } = project(
      log(10, added(11, 'alice', ['dave', 'erin']), removed(12, 'alice', ['erin']), sent(13, 'bob', 'm')),
      existing(), [], 10, opts,
    );
    expect(deliveries.map((d) => [d.room, d.recipients.length])).toEqual([[true, 5], [false, 5], [false, 4]]);
  });
});

describe('projectBatch: threads, mentions and notification settings', () => {
  const storedRoot: Message = { type: 'message', conversationId: CID, seq: 7, senderId: 'alice', clientMsgId: 'root', body: 'root', sentAt: t(7) };
  const reply = (at: number, senderId: string, clientMsgId: string, threadRootSeq = 7, mentions?: string[]): ConversationEvent => ({
    type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId, body: `reply ${clientMsgId}`, at: t(at), threadRootSeq, basis: 10, ...(mentions && { mentions }),
  });
  const targets = () => new Map([[messageKey(CID, 7), structuredClone(storedRoot)]]);

  it('folds a stored root\'s summary from the batch\'s replies into one message update, and delivers each reply as a message', () => {
    const { writes, deliveries } = project(log(10, reply(11, 'bob', 'r1'), reply(12, 'carol', 'r2'), reply(13, 'bob', 'r3')), existing(), [], 10, { targets: targets() });
    expect(writes.messageUpdates).toEqual([{
      conversationId: CID, seq: 7, changedSeq: 13,
      payload: { ...storedRoot, thread: { replies: 3, lastReplySeq: 13, lastReplyAt: t(13), participants: ['bob', 'carol'] } },
    }]);
    expect(deliveries.map((d) => d.event)).toEqual([11, 12, 13].map((seq) => expect.objectContaining({ type: 'message', seq, threadRootSeq: 7 })));
    expect(writes.rejected).toEqual([]);
  });

  it('folds the summary into the batch\'s own row of a root sent in the same batch', () => {
    const { writes } = project(log(10, sent(11, 'alice', 'root'), reply(12, 'bob', 'r1', 11)), existing(), [], 10);
    expect(writes.timeline.find((r) => r.seq === 11)!.payload).toMatchObject({ thread: { replies: 1, lastReplySeq: 12, participants: ['bob'] } });
    expect(writes.messageUpdates).toEqual([]);
  });

  it('refuses a reply to a reply (BAD_REQUEST) and to nothing (NOT_FOUND), writing no row for either', () => {
    const replyRow: Message = { ...storedRoot, seq: 8, clientMsgId: 'r0', threadRootSeq: 7 };
    const stored = new Map([[messageKey(CID, 8), replyRow]]);
    const { writes } = project(log(10, reply(11, 'bob', 'rr', 8), reply(12, 'bob', 'rx', 9)), existing(), [], 10, { targets: stored });
    expect(writes.rejected.map((r) => [r.seq, r.code])).toEqual([[11, 'BAD_REQUEST'], [12, 'NOT_FOUND']]);
    expect(writes.timeline).toEqual([]);
  });

  it('writes a mention row for each mentioned member but the sender, drops one removed before the send, and deletes them with the message', () => {
    const { writes } = project(
      log(10, removed(11, 'alice', ['carol']), { ...sent(12, 'alice', 'hey'), mentions: ['bob', 'carol', 'alice'], basis: 10 } as ConversationEvent, { type: 'MessageDeleted', v: 1, conversationId: CID, by: 'alice', targetSeq: 12, at: t(13) }),
      existing(), [], 10,
    );
    expect(writes.mentions).toEqual([{ conversationId: CID, userId: 'bob', seq: 12 }]);
    expect(writes.timeline.find((r) => r.seq === 12)!.payload).toMatchObject({ mentions: ['bob', 'alice'] });
    expect(writes.mentionDeletes).toEqual([{ conversationId: CID, seq: 12 }]);
  });

  it('keeps a member\'s notification setting, shown to that member\'s devices only, never to the room', () => {
    const notify: ConversationEvent = { type: 'NotifySet', v: 1, conversationId: CID, userId: 'bob', level: 'none', muteUntil: t(59), at: t(11) };
    const { writes, deliveries, states } = project(log(10, notify), existing(), [], 10, { fanoutMax: 2 });
    expect(writes.notifySettings).toEqual([{ conversationId: CID, userId: 'bob', level: 'none', muteUntil: t(59) }]);
    expect(writes.inbox).toEqual([{ userId: 'bob', seq: 11, conversationId: CID }]);
    expect(writes.timeline.map((r) => [r.kind, r.pulled])).toEqual([['notify', false]]);
    expect(deliveries).toEqual([expect.objectContaining({ recipients: ['bob'], room: false, event: { type: 'notify', conversationId: CID, seq: 11, level: 'none', muteUntil: t(59) } })]);
    expect(states.get(CID)!.lastSeq).toBe(10);
  });

  it('drops a setting of a member removed later in the batch, so one added back starts from the default', () => {
    const notify: ConversationEvent = { type: 'NotifySet', v: 1, conversationId: CID, userId: 'bob', level: 'mentions', at: t(11) };
    const { writes } = project(log(10, notify, removed(12, 'alice', ['bob']), added(13, 'alice', ['bob'])), existing(), [], 10);
    expect(writes.notifySettings).toEqual([]);
  });
});
