import type { ConversationCommand } from './commands';
import { admit, decide, DEPARTED_KEPT, evolve, readMarkerAt, type Decision } from './conversation.decider';
import type { Conversation, ConversationState, MessageRef } from './conversation.state';
import type { ConversationEvent } from './events';
import { evolveMessage, MAX_DISTINCT_REACTIONS, messageRef, type MessageState } from './message.state';

const AT = '2024-01-01T00:00:00.000Z';
const CID = 'c1';

/** Folds events through admit + evolve, like the projector does, seq 1..n. */
function given(...events: ConversationEvent[]): ConversationState {
  let state: ConversationState;
  events.forEach((event, i) => {
    const rejection = admit(state, event);
    if (rejection) throw new Error(`given: event ${i + 1} rejected: ${rejection.code} ${rejection.reason}`);
    state = evolve(state, event, i + 1);
  });
  return state;
}

const created = (kind: 'direct' | 'group', members: string[], createdBy = 'alice', title?: string): ConversationEvent => ({
  type: 'ConversationCreated', v: 1, conversationId: CID, kind, members, createdBy, at: AT, ...(title !== undefined && { title }),
});
const added = (by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersAdded', v: 1, conversationId: CID, by, userIds, at: AT });
const removed = (by: string, userIds: string[]): ConversationEvent => ({ type: 'MembersRemoved', v: 1, conversationId: CID, by, userIds, at: AT });
const sent = (senderId: string, clientMsgId = 'm1'): ConversationEvent => ({
  type: 'MessageSent', v: 1, conversationId: CID, senderId, clientMsgId, body: 'hi', at: AT,
});

const group = () => given(created('group', ['alice', 'bob', 'carol']));
const direct = () => given(created('direct', ['alice', 'bob']));

const create = (kind: 'direct' | 'group', creator: string, members: string[], title?: string): ConversationCommand => ({
  type: 'CreateConversation', conversationId: CID, kind, creator, members, at: AT, ...(title !== undefined && { title }),
});
const addMembers = (by: string, userIds: string[]): ConversationCommand => ({ type: 'AddMembers', conversationId: CID, by, userIds, at: AT });
const removeMembers = (by: string, userIds: string[]): ConversationCommand => ({ type: 'RemoveMembers', conversationId: CID, by, userIds, at: AT });
const send = (senderId: string, replyToSeq?: number): ConversationCommand => ({
  type: 'SendMessage', conversationId: CID, senderId, clientMsgId: 'cm-1', body: 'hello', at: AT,
  ...(replyToSeq !== undefined && { replyToSeq }),
});
const markRead = (userId: string, seq: number): ConversationCommand => ({ type: 'MarkRead', conversationId: CID, userId, seq, at: AT });

const events = (d: Decision) => {
  if (!d.ok) throw new Error(`expected accepted, got ${d.rejection.code}: ${d.rejection.reason}`);
  return d.events;
};
const code = (d: Decision) => (d.ok ? 'accepted' : d.rejection.code);

describe('decide: CreateConversation', () => {
  it.each([
    ['the other member only', ['bob']],
    ['the creator and the other member', ['alice', 'bob']],
    ['duplicates of both', ['bob', 'alice', 'bob']],
  ])('creates a direct conversation of exactly the creator and one other, given %s', (_, members) => {
    expect(events(decide(create('direct', 'alice', members), undefined))).toEqual([
      { type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'direct', members: ['alice', 'bob'], createdBy: 'alice', at: AT },
    ]);
  });

  it.each([
    ['only the creator', ['alice']],
    ['nobody', []],
    ['two others', ['bob', 'carol']],
  ])('refuses a direct conversation of %s with BAD_REQUEST', (_, members) => {
    expect(code(decide(create('direct', 'alice', members), undefined))).toBe('BAD_REQUEST');
  });

  it('refuses to create a conversation that exists with CONFLICT', () => {
    expect(code(decide(create('direct', 'alice', ['bob']), direct()))).toBe('CONFLICT');
    expect(code(decide(create('group', 'alice', ['bob']), group()))).toBe('CONFLICT');
  });

  it('adds the creator to a group, removes duplicates and keeps the title', () => {
    expect(events(decide(create('group', 'alice', ['bob', 'carol', 'bob'], 'Team'), undefined))).toEqual([
      { type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'group', members: ['alice', 'bob', 'carol'], createdBy: 'alice', at: AT, title: 'Team' },
    ]);
  });

  it('drops the title of a direct conversation', () => {
    const [event] = events(decide(create('direct', 'alice', ['bob'], 'ignored'), undefined));
    expect(event).not.toHaveProperty('title');
  });
});

describe('decide: AddMembers', () => {
  it('lets a member add users, naming only those who are new', () => {
    expect(events(decide(addMembers('bob', ['carol', 'dave', 'dave', 'erin']), group()))).toEqual([
      { type: 'MembersAdded', v: 1, conversationId: CID, by: 'bob', userIds: ['dave', 'erin'], at: AT },
    ]);
  });

  it('accepts adding users who are all members already, with no events', () => {
    expect(decide(addMembers('alice', ['bob', 'carol']), group())).toEqual({ ok: true, events: [] });
  });

  it.each([
    ['FORBIDDEN', 'a non-member adds someone', addMembers('mallory', ['dave']), group],
    ['FORBIDDEN', 'a non-member adds only existing members', addMembers('mallory', ['bob']), group],
    ['FORBIDDEN', 'a member adds someone to a direct conversation', addMembers('alice', ['carol']), direct],
    ['NOT_FOUND', 'anyone adds to an unknown conversation', addMembers('alice', ['bob']), () => undefined],
  ])('refuses with %s when %s', (expected, _, cmd, state) => {
    expect(code(decide(cmd, state()))).toBe(expected);
  });
});

describe('decide: RemoveMembers', () => {
  it('lets a member leave', () => {
    expect(events(decide(removeMembers('bob', ['bob']), group()))).toEqual([
      { type: 'MembersRemoved', v: 1, conversationId: CID, by: 'bob', userIds: ['bob'], at: AT },
    ]);
  });

  it('lets the creator remove others, naming only those who are members', () => {
    expect(events(decide(removeMembers('alice', ['bob', 'zed', 'carol', 'bob']), group()))).toEqual([
      { type: 'MembersRemoved', v: 1, conversationId: CID, by: 'alice', userIds: ['bob', 'carol'], at: AT },
    ]);
  });

  it('refuses a non-creator removing another member with FORBIDDEN', () => {
    expect(code(decide(removeMembers('bob', ['carol']), group()))).toBe('FORBIDDEN');
    expect(code(decide(removeMembers('bob', ['bob', 'carol']), group()))).toBe('FORBIDDEN');
  });

  it('accepts removing users none of whom are members, with no events', () => {
    expect(decide(removeMembers('bob', ['zed', 'yan']), group())).toEqual({ ok: true, events: [] });
  });

  it.each([
    ['FORBIDDEN', 'a non-member removes someone', removeMembers('mallory', ['bob']), group],
    ['FORBIDDEN', 'a member leaves a direct conversation', removeMembers('alice', ['alice']), direct],
    ['NOT_FOUND', 'anyone removes from an unknown conversation', removeMembers('alice', ['bob']), () => undefined],
  ])('refuses with %s when %s', (expected, _, cmd, state) => {
    expect(code(decide(cmd, state()))).toBe(expected);
  });
});

describe('decide: SendMessage', () => {
  it('lets a member send, copying every field including replyToSeq, with the position it was decided on', () => {
    const state = given(created('group', ['alice', 'bob']), sent('alice'));
    expect(events(decide(send('bob', 2), state))).toEqual([
      { type: 'MessageSent', v: 1, conversationId: CID, senderId: 'bob', clientMsgId: 'cm-1', body: 'hello', at: AT, replyToSeq: 2, basis: 2 },
    ]);
  });

  it('omits replyToSeq when the command has none', () => {
    expect(events(decide(send('alice'), group()))[0]).not.toHaveProperty('replyToSeq');
  });

  it.each([
    ['FORBIDDEN', 'a message from a non-member', send('mallory'), group],
    ['NOT_FOUND', 'a message to an unknown conversation', send('alice'), () => undefined],
    ['NOT_FOUND', 'a reply to a seq past the end of the conversation', send('alice', 2), group],
  ])('refuses with %s %s', (expected, _, cmd, state) => {
    expect(code(decide(cmd, state()))).toBe(expected);
  });
});

describe('decide: MarkRead', () => {
  it.each([2, 1, 99])('appends the marker asked for (%i): it is clamped where it is sequenced, not on a possibly stale view', (asked) => {
    const state = given(created('group', ['alice', 'bob']), sent('alice'));
    expect(events(decide(markRead('bob', asked), state))).toEqual([
      { type: 'ReadMarked', v: 2, conversationId: CID, userId: 'bob', upToSeq: asked, at: AT },
    ]);
  });

  it.each([
    [2, 2],
    [1, 1],
    [99, 2],
  ])('lands a marker of %i at %i in a conversation whose last seq is 2', (asked, landed) => {
    const state = given(created('group', ['alice', 'bob']), sent('alice'))!;
    expect(readMarkerAt(state, { type: 'ReadMarked', v: 2, conversationId: CID, userId: 'bob', upToSeq: asked, at: AT })).toBe(landed);
  });

  it('refuses a read marker from a non-member with FORBIDDEN', () => {
    expect(code(decide(markRead('mallory', 1), group()))).toBe('FORBIDDEN');
  });

  it('refuses a read marker in an unknown conversation with NOT_FOUND', () => {
    expect(code(decide(markRead('alice', 1), undefined))).toBe('NOT_FOUND');
  });
});

describe('admit: a send concurrent with its sender\'s removal', () => {
  // Seqs: 1 created, 2 removal of bob.
  const decidedBefore = () => events(decide(send('bob'), group()))[0]!;

  it('records the position the send was decided on', () => {
    expect(decidedBefore()).toMatchObject({ type: 'MessageSent', basis: 1 });
  });

  it('admits a send decided before the removal and appended after it: it was acked', () => {
    const after = given(created('group', ['alice', 'bob', 'carol']), removed('alice', ['bob']));
    expect(admit(after, decidedBefore())).toBeUndefined();
    // It counts as a message, not as making bob a member again.
    expect(evolve(after, decidedBefore(), 3).members.has('bob')).toBe(false);
  });

  it('refuses a send decided on a state that already had the removal, or without a position', () => {
    const after = given(created('group', ['alice', 'bob', 'carol']), removed('alice', ['bob']));
    expect(admit(after, { ...decidedBefore(), basis: 2 } as ConversationEvent)?.code).toBe('FORBIDDEN');
    expect(admit(after, sent('bob'))?.code).toBe('FORBIDDEN');
  });

  it('refuses a stranger whatever position its send names', () => {
    const after = given(created('group', ['alice', 'bob', 'carol']), removed('alice', ['bob']));
    expect(admit(after, { ...sent('mallory'), basis: 0 } as ConversationEvent)?.code).toBe('FORBIDDEN');
  });

  it('forgets a removal once the user is a member again, and keeps only the latest removals', () => {
    const back = given(created('group', ['alice', 'bob', 'carol']), removed('alice', ['bob']), added('alice', ['bob']));
    expect(back!.departed?.has('bob')).toBe(false);
    const many = Array.from({ length: DEPARTED_KEPT + 5 }, (_, i) => `u${i}`);
    let state = given(created('group', ['alice', ...many]));
    many.forEach((u, i) => (state = evolve(state, removed(u, [u]), i + 2)));
    expect(state!.departed!.size).toBe(DEPARTED_KEPT);
    expect(state!.departed!.has('u0')).toBe(false);
    expect(state!.departed!.get(many[many.length - 1]!)).toBe(many.length + 1);
  });
});

describe('admit: the rules re-checked in log order', () => {
  it('admits a message from a member before that member is removed, and refuses the same message after', () => {
    const before = group();
    expect(admit(before, sent('bob'))).toBeUndefined();
    const after = evolve(before, removed('alice', ['bob']), 2);
    expect(admit(after, sent('bob'))?.code).toBe('FORBIDDEN');
  });

  it('refuses a second ConversationCreated with CONFLICT', () => {
    expect(admit(group(), created('group', ['alice']))?.code).toBe('CONFLICT');
  });

  it.each([
    ['a creation whose creator is not a member', 'BAD_REQUEST', undefined, created('group', ['bob'], 'alice')],
    ['a direct creation of one distinct member', 'BAD_REQUEST', undefined, created('direct', ['alice', 'alice'])],
    ['an addition of nobody', 'BAD_REQUEST', 'group', added('alice', [])],
    ['a removal of nobody', 'BAD_REQUEST', 'group', removed('alice', [])],
    ['an event before the conversation exists', 'NOT_FOUND', undefined, sent('alice')],
  ] as const)('refuses %s with %s', (_, expected, start, event) => {
    const state = start === 'group' ? group() : undefined;
    expect(admit(state, event)?.code).toBe(expected);
  });

  it('admits a member added after creation sending, and refuses a removed member reading', () => {
    const state = given(created('group', ['alice']), added('alice', ['bob']));
    expect(admit(state, sent('bob'))).toBeUndefined();
    const left = evolve(state, removed('bob', ['bob']), 3);
    expect(admit(left, { type: 'ReadMarked', v: 2, conversationId: CID, userId: 'bob', upToSeq: 1, at: AT })?.code).toBe('FORBIDDEN');
  });
});

describe('evolve', () => {
  it('sets lastSeq to the seq of every event but read markers, and counts only messages, densely', () => {
    const steps: Array<[ConversationEvent, number, number, number]> = [
      [created('group', ['alice', 'bob']), 10, 10, 0],
      [sent('alice', 'a'), 11, 11, 1],
      [added('alice', ['carol']), 15, 15, 1],
      [sent('carol', 'b'), 20, 20, 2],
      [{ type: 'ReadMarked', v: 2, conversationId: CID, userId: 'bob', upToSeq: 20, at: AT }, 21, 20, 2],
      [removed('alice', ['carol']), 30, 30, 2],
      [sent('bob', 'c'), 42, 42, 3],
    ];
    let state: ConversationState;
    for (const [event, seq, lastSeq, messageCount] of steps) {
      state = evolve(state, event, seq);
      expect({ lastSeq: state.lastSeq, messageCount: state.messageCount }).toEqual({ lastSeq, messageCount });
    }
  });

  it('builds the conversation from its creation, with title', () => {
    expect(evolve(undefined, created('group', ['alice', 'bob'], 'alice', 'Team'), 7)).toEqual({
      id: CID, kind: 'group', createdBy: 'alice', createdAt: AT, members: new Set(['alice', 'bob']), lastSeq: 7, messageCount: 0, title: 'Team',
    });
  });

  it('updates the members set on additions and removals', () => {
    const state = given(created('group', ['alice', 'bob']));
    const grown = evolve(state, added('alice', ['carol', 'dave']), 2);
    expect([...grown.members].sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
    const shrunk = evolve(grown, removed('alice', ['bob', 'dave']), 3);
    expect([...shrunk.members].sort()).toEqual(['alice', 'carol']);
  });

  it('does not mutate the state it is given', () => {
    const state = given(created('group', ['alice', 'bob'])) as Conversation;
    const snapshot = { ...state, members: [...state.members] };
    evolve(state, added('alice', ['carol']), 2);
    evolve(state, removed('alice', ['bob']), 2);
    evolve(state, sent('alice'), 2);
    expect({ ...state, members: [...state.members] }).toEqual(snapshot);
  });

  it('throws for an event before the conversation exists', () => {
    expect(() => evolve(undefined, sent('alice'), 1)).toThrow('evolve: MessageSent before ConversationCreated');
  });
});

/* ---- edits, deletes and reactions: the message a change targets comes in as a MessageRef ---- */

const ref = (senderId: string, reactions: Record<string, string[]> = {}, deleted = false, inThread = false): MessageRef => ({ senderId, deleted, reactions, inThread });
const edit = (by: string, targetSeq = 2, body = 'fixed'): ConversationCommand => ({ type: 'EditMessage', conversationId: CID, by, targetSeq, body, at: AT });
const del = (by: string, targetSeq = 2): ConversationCommand => ({ type: 'DeleteMessage', conversationId: CID, by, targetSeq, at: AT });
const react = (userId: string, emoji = '👍', targetSeq = 2): ConversationCommand => ({ type: 'AddReaction', conversationId: CID, userId, targetSeq, emoji, at: AT });
const unreact = (userId: string, emoji = '👍', targetSeq = 2): ConversationCommand => ({ type: 'RemoveReaction', conversationId: CID, userId, targetSeq, emoji, at: AT });
const edited = (by: string, targetSeq = 2): ConversationEvent => ({ type: 'MessageEdited', v: 1, conversationId: CID, by, targetSeq, body: 'fixed', at: AT });
const deleted = (by: string, targetSeq = 2): ConversationEvent => ({ type: 'MessageDeleted', v: 1, conversationId: CID, by, targetSeq, at: AT });
const reactionAdded = (userId: string, emoji = '👍'): ConversationEvent => ({ type: 'ReactionAdded', v: 1, conversationId: CID, userId, targetSeq: 2, emoji, at: AT });
const reactionRemoved = (userId: string, emoji = '👍'): ConversationEvent => ({ type: 'ReactionRemoved', v: 1, conversationId: CID, userId, targetSeq: 2, emoji, at: AT });

/** alice created the group of alice, bob, carol; bob's message is seq 2. */
const groupWithMessage = () => given(created('group', ['alice', 'bob', 'carol']), sent('bob'));
/** alice created the direct conversation with bob; bob's message is seq 2. */
const directWithMessage = () => given(created('direct', ['alice', 'bob']), sent('bob'));
/** As groupWithMessage, then bob left at seq 3. */
const authorLeft = () => given(created('group', ['alice', 'bob', 'carol']), sent('bob'), removed('bob', ['bob']));

describe('decide: EditMessage', () => {
  it('lets the author edit, copying every field', () => {
    expect(events(decide(edit('bob', 2, 'new body'), groupWithMessage(), ref('bob')))).toEqual([
      { type: 'MessageEdited', v: 1, conversationId: CID, by: 'bob', targetSeq: 2, body: 'new body', at: AT },
    ]);
  });

  it.each<[string, string, ConversationCommand, () => ConversationState, MessageRef | undefined]>([
    ['FORBIDDEN', 'another member edits', edit('carol'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'the group creator edits someone else\'s message', edit('alice'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'the other member of a direct conversation edits', edit('alice'), directWithMessage, ref('bob')],
    ['FORBIDDEN', 'a non-member edits', edit('mallory'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'a non-member edits a message carrying its name as sender', edit('mallory'), groupWithMessage, ref('mallory')],
    ['FORBIDDEN', 'the author edits after leaving', edit('bob'), authorLeft, ref('bob')],
    ['NOT_FOUND', 'the author edits a message that does not exist', edit('bob', 9), groupWithMessage, undefined],
    ['NOT_FOUND', 'the author edits a deleted message', edit('bob'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'anyone edits in an unknown conversation', edit('bob'), () => undefined, ref('bob')],
  ])('refuses with %s when %s', (expected, _, cmd, state, target) => {
    expect(code(decide(cmd, state(), target))).toBe(expected);
  });
});

describe('decide: DeleteMessage', () => {
  it.each<[string, ConversationCommand, () => ConversationState]>([
    ['the author, in a group', del('bob'), groupWithMessage],
    ['the group\'s creator, of another member\'s message', del('alice'), groupWithMessage],
    ['the author, in a direct conversation', del('bob'), directWithMessage],
  ])('lets %s delete', (_, cmd, state) => {
    expect(events(decide(cmd, state(), ref('bob')))).toEqual([
      { type: 'MessageDeleted', v: 1, conversationId: CID, by: (cmd as { by: string }).by, targetSeq: 2, at: AT },
    ]);
  });

  it.each<[string, string, ConversationCommand, () => ConversationState, MessageRef | undefined]>([
    ['FORBIDDEN', 'another member who is not the creator deletes', del('carol'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'the creator of a direct conversation deletes the other member\'s message', del('alice'), directWithMessage, ref('bob')],
    ['FORBIDDEN', 'a non-member deletes', del('mallory'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'the author deletes after leaving', del('bob'), authorLeft, ref('bob')],
    ['NOT_FOUND', 'the author deletes a message that does not exist', del('bob', 9), groupWithMessage, undefined],
    ['NOT_FOUND', 'the author deletes a message twice', del('bob'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'the creator deletes a deleted message', del('alice'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'anyone deletes in an unknown conversation', del('bob'), () => undefined, ref('bob')],
  ])('refuses with %s when %s', (expected, _, cmd, state, target) => {
    expect(code(decide(cmd, state(), target))).toBe(expected);
  });
});

describe('decide: AddReaction and RemoveReaction', () => {
  it('lets any member add a reaction, copying every field', () => {
    expect(events(decide(react('carol', '🎉'), groupWithMessage(), ref('bob')))).toEqual([
      { type: 'ReactionAdded', v: 1, conversationId: CID, userId: 'carol', targetSeq: 2, emoji: '🎉', at: AT },
    ]);
  });

  it('lets a member remove its own reaction, copying every field', () => {
    expect(events(decide(unreact('carol', '🎉'), groupWithMessage(), ref('bob', { '🎉': ['alice', 'carol'] })))).toEqual([
      { type: 'ReactionRemoved', v: 1, conversationId: CID, userId: 'carol', targetSeq: 2, emoji: '🎉', at: AT },
    ]);
  });

  it.each<[string, ConversationCommand, MessageRef]>([
    ['the same emoji another user reacted with', react('carol'), ref('bob', { '👍': ['alice'] })],
    ['another emoji than the one the user reacted with', react('carol', '🎉'), ref('bob', { '👍': ['carol'] })],
    ['a reaction on one\'s own message', react('bob'), ref('bob')],
  ])('adds %s', (_, cmd, target) => {
    expect(events(decide(cmd, groupWithMessage(), target))).toHaveLength(1);
  });

  it.each<[string, ConversationCommand, MessageRef]>([
    ['adding a reaction the user already made', react('carol'), ref('bob', { '👍': ['alice', 'carol'] })],
    ['removing a reaction nobody made', unreact('carol'), ref('bob')],
    ['removing a reaction only another user made', unreact('carol'), ref('bob', { '👍': ['alice'] })],
    ['removing an emoji the user did not use', unreact('carol', '🎉'), ref('bob', { '👍': ['carol'] })],
  ])('accepts %s as a no-op with no events', (_, cmd, target) => {
    expect(decide(cmd, groupWithMessage(), target)).toEqual({ ok: true, events: [] });
  });

  it.each<[string, string, ConversationCommand, () => ConversationState, MessageRef | undefined]>([
    ['FORBIDDEN', 'a non-member adds', react('mallory'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'a non-member removes a reaction it is recorded with', unreact('mallory'), groupWithMessage, ref('bob', { '👍': ['mallory'] })],
    ['FORBIDDEN', 'a non-member adds a reaction already recorded for it', react('mallory'), groupWithMessage, ref('bob', { '👍': ['mallory'] })],
    ['NOT_FOUND', 'a member adds to a message that does not exist', react('carol', '👍', 9), groupWithMessage, undefined],
    ['NOT_FOUND', 'a member adds to a deleted message', react('carol'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'a member removes from a deleted message', unreact('carol'), groupWithMessage, ref('bob', { '👍': ['carol'] }, true)],
    ['NOT_FOUND', 'anyone reacts in an unknown conversation', react('carol'), () => undefined, ref('bob')],
  ])('refuses with %s when %s', (expected, _, cmd, state, target) => {
    expect(code(decide(cmd, state(), target))).toBe(expected);
  });
});

describe('decide: membership of a direct conversation is fixed', () => {
  it.each<[string, ConversationCommand]>([
    ['adding the other member, who is already there', addMembers('alice', ['bob'])],
    ['adding oneself', addMembers('alice', ['alice'])],
    ['adding nobody', addMembers('alice', [])],
    ['removing a user who is not a member', removeMembers('alice', ['zed'])],
    ['removing nobody', removeMembers('alice', [])],
    ['removing the other member', removeMembers('alice', ['bob'])],
  ])('refuses %s with FORBIDDEN, even when nothing would change', (_, cmd) => {
    expect(code(decide(cmd, direct()))).toBe('FORBIDDEN');
  });
});

describe('admit: edits, deletes and reactions at their position in the log', () => {
  it.each<[string, ConversationEvent, () => ConversationState, MessageRef | undefined]>([
    ['an edit by the author', edited('bob'), groupWithMessage, ref('bob')],
    ['a delete by the author', deleted('bob'), groupWithMessage, ref('bob')],
    ['a delete by the group\'s creator', deleted('alice'), groupWithMessage, ref('bob')],
    ['a first reaction', reactionAdded('carol'), groupWithMessage, ref('bob')],
    ['a removal of an existing reaction', reactionRemoved('carol'), groupWithMessage, ref('bob', { '👍': ['carol'] })],
  ])('admits %s', (_, event, state, target) => {
    expect(admit(state(), event, target)).toBeUndefined();
  });

  it.each<[string, string, ConversationEvent, () => ConversationState, MessageRef | undefined]>([
    ['FORBIDDEN', 'an edit by another member', edited('carol'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'an edit by the group creator', edited('alice'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'an edit by the author after it left', edited('bob'), authorLeft, ref('bob')],
    ['FORBIDDEN', 'a delete by a member who is neither author nor creator', deleted('carol'), groupWithMessage, ref('bob')],
    ['FORBIDDEN', 'a delete by the creator of a direct conversation', deleted('alice'), directWithMessage, ref('bob')],
    ['FORBIDDEN', 'a reaction by a non-member', reactionAdded('mallory'), groupWithMessage, ref('bob')],
    ['NOT_FOUND', 'an edit of a missing message', edited('bob', 9), groupWithMessage, undefined],
    ['NOT_FOUND', 'an edit of a deleted message', edited('bob'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'a delete of a deleted message', deleted('bob'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'a reaction to a missing message', reactionAdded('carol'), groupWithMessage, undefined],
    ['NOT_FOUND', 'a reaction to a deleted message', reactionAdded('carol'), groupWithMessage, ref('bob', {}, true)],
    ['NOT_FOUND', 'a change before the conversation exists', edited('bob'), () => undefined, ref('bob')],
    ['CONFLICT', 'a reaction the user already made', reactionAdded('carol'), groupWithMessage, ref('bob', { '👍': ['carol'] })],
    ['CONFLICT', 'a removal of a reaction that is not there', reactionRemoved('carol'), groupWithMessage, ref('bob', { '👍': ['alice'] })],
    ['CONFLICT', 'a removal from a message without reactions', reactionRemoved('carol'), groupWithMessage, ref('bob')],
  ])('refuses with %s %s', (expected, _, event, state, target) => {
    expect(admit(state(), event, target)?.code).toBe(expected);
  });

  it('refuses direct membership changes with FORBIDDEN whatever they name', () => {
    expect(admit(direct(), added('alice', ['bob']))?.code).toBe('FORBIDDEN');
    expect(admit(direct(), added('alice', []))?.code).toBe('FORBIDDEN');
    expect(admit(direct(), removed('alice', ['zed']))?.code).toBe('FORBIDDEN');
  });

  it('admits a v2 read marker from a member and refuses one from a non-member', () => {
    const read = (userId: string): ConversationEvent => ({ type: 'ReadMarked', v: 2, conversationId: CID, userId, upToSeq: 1, at: AT });
    expect(admit(group(), read('bob'))).toBeUndefined();
    expect(admit(group(), read('mallory'))?.code).toBe('FORBIDDEN');
  });
});

describe('evolve: message changes', () => {
  it.each<[string, ConversationEvent]>([
    ['MessageEdited', edited('bob')],
    ['MessageDeleted', deleted('bob')],
    ['ReactionAdded', reactionAdded('carol')],
    ['ReactionRemoved', reactionRemoved('carol')],
  ])('moves only lastSeq on %s: same members, same message count', (_, event) => {
    const state = groupWithMessage() as Conversation;
    const after = evolve(state, event, 7);
    expect(after).toEqual({ ...state, lastSeq: 7 });
    expect(state.lastSeq).toBe(2);
  });
});

describe('reactions named like Object.prototype members', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('adds, refuses twice and removes the reaction %s like any other', (emoji) => {
    const message: MessageState = { senderId: 'ann', body: 'hi' };
    const react = (type: 'ReactionAdded' | 'ReactionRemoved') => ({ type, v: 1 as const, conversationId: 'g_1', userId: 'bob', targetSeq: 2, emoji, at: '2026-01-01T00:00:00.000Z' });
    const state = { id: 'g_1', kind: 'group' as const, createdBy: 'ann', createdAt: '2026-01-01T00:00:00.000Z', members: new Set(['ann', 'bob']), lastSeq: 2, messageCount: 1 };
    expect(admit(state, react('ReactionAdded'), messageRef(message))).toBeUndefined();
    expect(admit(state, react('ReactionRemoved'), messageRef(message))).toMatchObject({ code: 'CONFLICT' });
    evolveMessage(message, react('ReactionAdded'));
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(message)).reactions).toEqual(JSON.parse(`{"${emoji}":["bob"]}`));
    expect(admit(state, react('ReactionAdded'), messageRef(message))).toMatchObject({ code: 'CONFLICT' });
    evolveMessage(message, react('ReactionRemoved'));
    expect(message.reactions).toBeUndefined();
  });
});

describe('distinct reactions per message are bounded, in log order', () => {
  const emoji = (i: number) => `:e${i}:`;
  const full = () => Object.fromEntries(Array.from({ length: MAX_DISTINCT_REACTIONS }, (_, i) => [emoji(i), ['alice']]));

  it(`refuses a new emoji on a message with ${MAX_DISTINCT_REACTIONS} distinct ones with PAYLOAD_TOO_LARGE, at decide and at admit`, () => {
    const target = ref('bob', full());
    expect(decide(react('carol', emoji(MAX_DISTINCT_REACTIONS)), groupWithMessage(), target)).toEqual({
      ok: false, rejection: { code: 'PAYLOAD_TOO_LARGE', reason: expect.stringContaining(String(MAX_DISTINCT_REACTIONS)) },
    });
    expect(admit(groupWithMessage(), reactionAdded('carol', emoji(MAX_DISTINCT_REACTIONS)), target)?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('still lets members join an emoji already there, and remove theirs, when the message is full', () => {
    const target = ref('bob', full());
    expect(events(decide(react('carol', emoji(3)), groupWithMessage(), target))).toHaveLength(1);
    expect(events(decide(unreact('alice', emoji(3)), groupWithMessage(), target))).toHaveLength(1);
    // Already reacted stays an idempotent no-op, not a refusal.
    expect(decide(react('alice', emoji(3)), groupWithMessage(), target)).toEqual({ ok: true, events: [] });
  });

  it('folds two racing adds of the last free place the same way on every replay: the first in the log wins', () => {
    const state = groupWithMessage();
    const replay = () => {
      const message: MessageState = { senderId: 'bob', body: 'hi' };
      const log = [
        ...Array.from({ length: MAX_DISTINCT_REACTIONS - 1 }, (_, i) => reactionAdded('alice', emoji(i))),
        // Both decided on a message with one free place; the log orders them.
        reactionAdded('carol', ':last:'),
        reactionAdded('bob', ':too-many:'),
        // A removal frees a place: a later new emoji fits again.
        reactionRemoved('alice', emoji(0)),
        reactionAdded('bob', ':after:'),
      ];
      const verdicts = log.map((event) => {
        const rejection = admit(state, event, messageRef(message));
        if (!rejection) evolveMessage(message, event as Parameters<typeof evolveMessage>[1]);
        return rejection?.code ?? 'ok';
      });
      return { verdicts, reactions: message.reactions };
    };
    const first = replay();
    expect(first.verdicts.slice(-4)).toEqual(['ok', 'PAYLOAD_TOO_LARGE', 'ok', 'ok']);
    expect(Object.keys(first.reactions!)).toHaveLength(MAX_DISTINCT_REACTIONS);
    expect(first.reactions![':too-many:']).toBeUndefined();
    expect(replay()).toEqual(first);
  });
});
