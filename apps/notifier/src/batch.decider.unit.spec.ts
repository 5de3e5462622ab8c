import type { PushDevice } from '@chat/storage';
import { offlineOf, planBatch, recipientsIn, recipientsOf, wakeDecisions, type BatchFacts, type BatchMessage, type WakePlan } from './batch.decider';

const now = new Date('2026-01-01T12:00:00Z');
const HOUR = 3_600_000;
const device = (userId: string, deviceId = 'd1'): PushDevice => ({ userId, deviceId, platform: 'webhook', token: `https://hooks.example/${userId}` });
const msg = (seq: number, conversationId = 'g_a', senderId = 'ann'): BatchMessage => ({ seq, conversationId, senderId });
const members = (entries: Record<string, Record<string, number>>) => new Map(Object.entries(entries).map(([c, m]) => [c, new Map(Object.entries(m))]));

function facts(change: Partial<BatchFacts> = {}): BatchFacts {
  return { online: new Set(), markers: new Map(), devices: new Map(), lastActive: new Map(), now, activeWithinMs: 2 * HOUR, ...change };
}

describe('recipientsOf', () => {
  it('gives each message to the members who joined before it, never to its sender', () => {
    const m = members({ g_a: { ann: 1, bob: 1, cat: 5 } });
    expect(recipientsOf([msg(3), msg(7)], m)).toEqual([
      { message: msg(3), recipients: ['bob'] },
      { message: msg(7), recipients: ['bob', 'cat'] },
    ]);
  });

  it('gives nothing for a message of an unknown conversation or whose sender is not a member (the projection refused it)', () => {
    const m = members({ g_a: { bob: 1, cat: 1 } });
    expect(recipientsOf([msg(3), msg(4, 'g_unknown')], m)).toEqual([]);
  });

  it('skips a message that has nobody to go to', () => {
    expect(recipientsOf([msg(3)], members({ g_a: { ann: 1 } }))).toEqual([]);
  });
});

describe('recipientsIn and offlineOf', () => {
  const deliveries = [
    { message: msg(3, 'g_a'), recipients: ['bob', 'cat'] },
    { message: msg(4, 'g_b'), recipients: ['bob', 'dan'] },
    { message: msg(5, 'g_a'), recipients: ['bob', 'cat'] },
  ];

  it('names every recipient once', () => {
    expect(recipientsIn(deliveries).sort()).toEqual(['bob', 'cat', 'dan']);
  });

  it('asks for the markers of offline recipients only, each (conversation, user) once', () => {
    const { users, pairs } = offlineOf(deliveries, new Set(['cat']));
    expect(users.sort()).toEqual(['bob', 'dan']);
    expect(pairs).toEqual([
      { conversationId: 'g_a', userId: 'bob' },
      { conversationId: 'g_b', userId: 'bob' },
      { conversationId: 'g_b', userId: 'dan' },
    ]);
  });
});

describe('planBatch', () => {
  const active = new Date(now.getTime() - HOUR);

  it('decides every recipient of every message: online, read, no_device, idle, or a wake plan', () => {
    const deliveries = [{ message: msg(10), recipients: ['on', 'reader', 'nodev', 'idler', 'never', 'sleeper'] }];
    const plan = planBatch(deliveries, facts({
      online: new Set(['on']),
      markers: new Map([['g_a', new Map([['reader', { lastReadSeq: 10, unread: 0, notify: 'all' as const }], ['sleeper', { lastReadSeq: 4, unread: 3, notify: 'all' as const }]])]]),
      devices: new Map(['reader', 'idler', 'never', 'sleeper'].map((u) => [u, [device(u)]])),
      lastActive: new Map([['reader', active], ['nodev', active], ['idler', new Date(now.getTime() - 3 * HOUR)], ['sleeper', active]]),
    }));
    expect(plan.online).toEqual([{ userId: 'on', conversationId: 'g_a', seq: 10 }]);
    expect(plan.decided).toEqual([
      { userId: 'reader', conversationId: 'g_a', seq: 10, decision: 'read' },
      { userId: 'nodev', conversationId: 'g_a', seq: 10, decision: 'no_device' },
      { userId: 'idler', conversationId: 'g_a', seq: 10, decision: 'idle' },
      { userId: 'never', conversationId: 'g_a', seq: 10, decision: 'idle' },
    ]);
    expect(plan.wakes).toEqual([{ userId: 'sleeper', devices: [device('sleeper')], messages: [{ conversationId: 'g_a', seq: 10 }], conversations: [{ conversationId: 'g_a', count: 3 }] }]);
  });

  it('honours each member\'s notification setting: muted, mentions only unless mentioned, an expired mute wakes', () => {
    const users = ['none', 'snoozed', 'expired', 'mentionsOnly', 'mentioned'];
    const deliveries = [{ message: { ...msg(10), mentions: ['mentioned'] }, recipients: users }];
    const plan = planBatch(deliveries, facts({
      markers: new Map([['g_a', new Map([
        ['none', { lastReadSeq: 0, unread: 1, notify: 'none' as const }],
        ['snoozed', { lastReadSeq: 0, unread: 1, notify: 'all' as const, muteUntil: new Date(now.getTime() + HOUR) }],
        ['expired', { lastReadSeq: 0, unread: 1, notify: 'all' as const, muteUntil: new Date(now.getTime() - HOUR) }],
        ['mentionsOnly', { lastReadSeq: 0, unread: 1, notify: 'mentions' as const }],
        ['mentioned', { lastReadSeq: 0, unread: 1, notify: 'mentions' as const }],
      ])]]),
      devices: new Map(users.map((u) => [u, [device(u)]])),
      lastActive: new Map(users.map((u) => [u, active])),
    }));
    expect(plan.decided).toEqual([
      { userId: 'none', conversationId: 'g_a', seq: 10, decision: 'muted' },
      { userId: 'snoozed', conversationId: 'g_a', seq: 10, decision: 'muted' },
      { userId: 'mentionsOnly', conversationId: 'g_a', seq: 10, decision: 'not_mentioned' },
    ]);
    expect(plan.wakes.map((w) => w.userId)).toEqual(['expired', 'mentioned']);
  });

  it('makes one wake plan per user for the whole batch, naming each conversation once with its unread count, in seq order', () => {
    const deliveries = [
      { message: msg(12, 'g_a'), recipients: ['bob'] },
      { message: msg(11, 'g_b', 'cat'), recipients: ['bob'] },
      { message: msg(13, 'g_b', 'cat'), recipients: ['bob'] },
    ];
    const plan = planBatch(deliveries, facts({
      markers: new Map([['g_a', new Map([['bob', { lastReadSeq: 0, unread: 1, notify: 'all' as const }]])], ['g_b', new Map([['bob', { lastReadSeq: 0, unread: 2, notify: 'all' as const }]])]]),
      devices: new Map([['bob', [device('bob'), device('bob', 'd2')]]]),
      lastActive: new Map([['bob', active]]),
    }));
    expect(plan.wakes).toEqual([{
      userId: 'bob',
      devices: [device('bob'), device('bob', 'd2')],
      messages: [{ conversationId: 'g_b', seq: 11 }, { conversationId: 'g_a', seq: 12 }, { conversationId: 'g_b', seq: 13 }],
      conversations: [{ conversationId: 'g_b', count: 2 }, { conversationId: 'g_a', count: 1 }],
    }]);
    expect(plan.decided).toEqual([]);
  });

  it('reads each message against the marker: read up to one message, woken for the next', () => {
    const deliveries = [{ message: msg(20), recipients: ['bob'] }, { message: msg(21), recipients: ['bob'] }];
    const plan = planBatch(deliveries, facts({
      markers: new Map([['g_a', new Map([['bob', { lastReadSeq: 20, unread: 1, notify: 'all' as const }]])]]),
      devices: new Map([['bob', [device('bob')]]]),
      lastActive: new Map([['bob', active]]),
    }));
    expect(plan.decided).toEqual([{ userId: 'bob', conversationId: 'g_a', seq: 20, decision: 'read' }]);
    expect(plan.wakes.map((w) => w.messages)).toEqual([[{ conversationId: 'g_a', seq: 21 }]]);
  });

  it('counts 1 unread when the marker is missing (the membership is newer than the read)', () => {
    const plan = planBatch([{ message: msg(5), recipients: ['bob'] }], facts({ devices: new Map([['bob', [device('bob')]]]), lastActive: new Map([['bob', active]]) }));
    expect(plan.wakes[0]!.conversations).toEqual([{ conversationId: 'g_a', count: 1 }]);
  });
});

describe('wakeDecisions', () => {
  const plan: WakePlan = {
    userId: 'bob', devices: [device('bob')],
    messages: [{ conversationId: 'g_a', seq: 11 }, { conversationId: 'g_b', seq: 12 }],
    conversations: [{ conversationId: 'g_a', count: 1 }, { conversationId: 'g_b', count: 1 }],
  };

  it('records woken for the first message, with the devices, and coalesced into it for the rest', () => {
    expect(wakeDecisions(plan, { kind: 'sent', woken: ['webhook:d1'], problems: ['fcm:d2 gone: 404'] })).toEqual([
      { userId: 'bob', conversationId: 'g_a', seq: 11, decision: 'woken', detail: 'webhook:d1; fcm:d2 gone: 404' },
      { userId: 'bob', conversationId: 'g_b', seq: 12, decision: 'coalesced', detail: 'in the wake-up for seq 11' },
    ]);
  });

  it('records failed with every problem when no device took it', () => {
    expect(wakeDecisions(plan, { kind: 'sent', woken: [], problems: ['webhook:d1 failed: 400'] })[0]).toEqual(
      { userId: 'bob', conversationId: 'g_a', seq: 11, decision: 'failed', detail: 'webhook:d1 failed: 400' },
    );
  });

  it('records coalesced for every message when the window was taken', () => {
    expect(wakeDecisions(plan, { kind: 'coalesced' }).map((d) => [d.seq, d.decision])).toEqual([[11, 'coalesced'], [12, 'coalesced']]);
  });
});
