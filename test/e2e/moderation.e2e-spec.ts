import type { ChatEvent, ConversationChanged } from '@chat/contracts';
import { refusedWith, tokenFor, waitForEvents, type TestClient } from '../support/clients';
import { caughtUp, footprint } from '../support/inspect';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const change = (name: ConversationChanged['change']) => (e: ChatEvent) => e.type === 'conversation' && e.change === name;

describe('roles and moderation', () => {
  const sys = useSystem('moderation');

  /** The admin API, as the operator: the JSON answer and its status. */
  async function admin(method: string, path: string, body?: unknown, token = TEST_ADMIN_TOKEN): Promise<{ status: number; body: any }> {
    const res = await fetch(`${sys().app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  /** A group of owner (its creator), mod, bob and cat, with one message by bob; mod made a moderator. */
  async function team(prefix: string) {
    const [owner, mod, bob, cat] = await Promise.all(['owner', 'mod', 'bob', 'cat'].map((u) => sys().connect(`${prefix}-${u}`))) as [TestClient, TestClient, TestClient, TestClient];
    const { conversation } = await owner.ok('conversation:create', { type: 'group', title: 'Moderated', members: [mod.userId, bob.userId, cat.userId] });
    const id = conversation.id;
    expect(conversation.roles).toEqual({ [owner.userId]: 'owner' });
    await owner.ok('conversation:set_role', { conversationId: id, userId: mod.userId, role: 'moderator' });
    const bobs = await bob.ok('message:send', { conversationId: id, clientMsgId: 'b1', body: 'buy cheap watches' });
    return { owner, mod, bob, cat, id, bobs };
  }

  /** Each request refused with its code, and nothing written: no log entry, no row. */
  async function refusedAll(cases: Array<[TestClient, string, unknown, string]>): Promise<void> {
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);
    for (const [client, event, payload, code] of cases) {
      const ack = await client.request(event as never, payload);
      expect({ event, payload, code: ack.ok ? 'ok' : ack.error.code }).toEqual({ event, payload, code });
    }
    expect(await footprint(sys().ns)).toEqual(before);
  }

  it('lets only the owner name moderators, shows the change live and in the conversation\'s roles, and refuses the rest writing nothing', async () => {
    const { owner, mod, bob, cat, id } = await team('roles');
    const [roleEvent] = await waitForEvents(cat, 1, change('role_changed'));
    expect(roleEvent).toMatchObject({ conversationId: id, userIds: [mod.userId], by: owner.userId, role: 'moderator' });
    const { conversations } = await cat.ok('conversation:list', {});
    expect(conversations.find((c) => c.id === id)?.roles).toEqual({ [owner.userId]: 'owner', [mod.userId]: 'moderator' });

    const { conversation: direct } = await owner.ok('conversation:create', { type: 'direct', members: [bob.userId] });
    const stranger = await sys().connect('roles-stranger');
    await refusedAll([
      [mod, 'conversation:set_role', { conversationId: id, userId: bob.userId, role: 'moderator' }, 'FORBIDDEN'],
      [bob, 'conversation:set_role', { conversationId: id, userId: bob.userId, role: 'moderator' }, 'FORBIDDEN'],
      [stranger, 'conversation:set_role', { conversationId: id, userId: bob.userId, role: 'moderator' }, 'FORBIDDEN'],
      [owner, 'conversation:set_role', { conversationId: id, userId: owner.userId, role: 'member' }, 'FORBIDDEN'],
      [owner, 'conversation:set_role', { conversationId: id, userId: 'roles-nobody', role: 'moderator' }, 'BAD_REQUEST'],
      [owner, 'conversation:set_role', { conversationId: id, userId: bob.userId, role: 'owner' }, 'BAD_REQUEST'],
      [owner, 'conversation:set_role', { conversationId: direct.id, userId: bob.userId, role: 'moderator' }, 'FORBIDDEN'],
      [owner, 'conversation:set_role', { conversationId: id }, 'BAD_REQUEST'],
    ]);
    // A role already held: a no-op answered with the conversation's end.
    const { lastSeq } = (await owner.ok('conversation:list', {})).conversations.find((c) => c.id === id)!;
    expect(await owner.ok('conversation:set_role', { conversationId: id, userId: mod.userId, role: 'moderator' })).toEqual({ ok: true, seq: lastSeq });

    // The role taken back: mod is a member again and may no longer moderate.
    await owner.ok('conversation:set_role', { conversationId: id, userId: mod.userId, role: 'member' });
    await refusedAll([[mod, 'conversation:mute_member', { conversationId: id, userId: bob.userId }, 'FORBIDDEN']]);
  });

  it('mutes a member until its end or the unmute: sends FORBIDDEN with retryAfterMs, edits and reactions FORBIDDEN, reads still fine', async () => {
    const { owner, mod, bob, cat, id, bobs } = await team('mute');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const muted = await mod.ok('conversation:mute_member', { conversationId: id, userId: bob.userId, until });
    const [event] = await waitForEvents(cat, 1, change('member_muted'));
    expect(event).toEqual({ type: 'conversation', conversationId: id, seq: muted.seq, change: 'member_muted', userIds: [bob.userId], by: mod.userId, until });
    const summary = (await bob.ok('conversation:list', {})).conversations.find((c) => c.id === id);
    expect(summary?.muted).toEqual({ until });

    const send = await bob.request('message:send', { conversationId: id, clientMsgId: 'b2', body: 'still selling' });
    expect(send).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: `you are muted in this conversation until ${until}`, retryAfterMs: expect.any(Number) } });
    expect(!send.ok && send.error.retryAfterMs).toBeGreaterThan(3_500_000);
    await refusedAll([
      [bob, 'message:send', { conversationId: id, clientMsgId: 'b3', body: 'hello?' }, 'FORBIDDEN'],
      [bob, 'message:edit', { conversationId: id, seq: bobs.seq, body: 'edited' }, 'FORBIDDEN'],
      [bob, 'reaction:add', { conversationId: id, seq: bobs.seq, emoji: '👍' }, 'FORBIDDEN'],
      [bob, 'typing', { conversationId: id, state: 'start' }, 'FORBIDDEN'],
      [mod, 'conversation:mute_member', { conversationId: id, userId: owner.userId }, 'FORBIDDEN'],
      [cat, 'conversation:mute_member', { conversationId: id, userId: mod.userId }, 'FORBIDDEN'],
      [mod, 'conversation:mute_member', { conversationId: id, userId: cat.userId, until: '2020-01-01T00:00:00Z' }, 'BAD_REQUEST'],
      [mod, 'conversation:mute_member', { conversationId: id, userId: cat.userId, until: 'tomorrow' }, 'BAD_REQUEST'],
      [mod, 'conversation:mute_member', { conversationId: id, userId: 'mute-nobody' }, 'BAD_REQUEST'],
      [cat, 'conversation:unmute_member', { conversationId: id, userId: bob.userId }, 'FORBIDDEN'],
    ]);
    // The resend of a message sent before the mute answers as a resend, not as a refusal.
    expect(await bob.request('message:send', { conversationId: id, clientMsgId: 'b1', body: 'buy cheap watches' })).toMatchObject({ ok: true, seq: bobs.seq, duplicate: true });
    await bob.ok('read', { conversationId: id, seq: bobs.seq });

    await owner.ok('conversation:unmute_member', { conversationId: id, userId: bob.userId });
    await waitForEvents(cat, 1, change('member_unmuted'));
    await bob.ok('message:send', { conversationId: id, clientMsgId: 'b4', body: 'sorry' });
    await bob.ok('reaction:add', { conversationId: id, seq: bobs.seq, emoji: '🙏' });
    // Unmuting who is not muted: a no-op.
    expect((await owner.request('conversation:unmute_member', { conversationId: id, userId: bob.userId })).ok).toBe(true);
  });

  it('holds members to one message per window in slow mode (RATE_LIMITED with retryAfterMs), the owner and moderators exempt', async () => {
    const { owner, mod, bob, cat, id } = await team('slow');
    // Long enough that the checks below fit in one window on a busy machine.
    const set = await mod.ok('conversation:set_slow_mode', { conversationId: id, seconds: 5 });
    const [event] = await waitForEvents(cat, 1, change('slow_mode'));
    expect(event).toEqual({ type: 'conversation', conversationId: id, seq: set.seq, change: 'slow_mode', userIds: [], by: mod.userId, seconds: 5 });
    expect((await cat.ok('conversation:list', {})).conversations.find((c) => c.id === id)?.slowModeSeconds).toBe(5);

    const first = await cat.ok('message:send', { conversationId: id, clientMsgId: 'c1', body: 'one' });
    const fast = await cat.request('message:send', { conversationId: id, clientMsgId: 'c2', body: 'two' });
    expect(fast).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow mode: one message every 5 s', retryAfterMs: expect.any(Number) } });
    const wait = !fast.ok ? fast.error.retryAfterMs! : 0;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(5_000);
    // A resend of the first is answered as a resend, in the window or not.
    expect(await cat.request('message:send', { conversationId: id, clientMsgId: 'c1', body: 'one' })).toMatchObject({ ok: true, seq: first.seq, duplicate: true });
    await refusedAll([
      [cat, 'message:send', { conversationId: id, clientMsgId: 'c3', body: 'three' }, 'RATE_LIMITED'],
      [bob, 'conversation:set_slow_mode', { conversationId: id, seconds: 0 }, 'FORBIDDEN'],
      [mod, 'conversation:set_slow_mode', { conversationId: id, seconds: 3601 }, 'BAD_REQUEST'],
      [mod, 'conversation:set_slow_mode', { conversationId: id, seconds: -1 }, 'BAD_REQUEST'],
    ]);
    // The owner and moderators are not held back; another member has its own window.
    for (const [client, n] of [[owner, 1], [owner, 2], [mod, 1], [mod, 2]] as const) {
      await client.ok('message:send', { conversationId: id, clientMsgId: `x${n}`, body: `exempt ${n}` });
    }
    await bob.ok('message:send', { conversationId: id, clientMsgId: 'b2', body: 'my turn' });
    // Through the server API as the same member: the same rule, as 429 with Retry-After.
    const api = await fetch(`${sys().app.url}/v1/server/conversations/${id}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ senderId: bob.userId, clientMsgId: 'b3', body: 'again' }),
    });
    expect(api.status).toBe(429);
    expect(api.headers.get('retry-after')).toMatch(/^[1-5]$/);
    expect(((await api.json()) as { error: unknown }).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });

    // Once the window has passed, the member sends again.
    const later = await waitFor('the slow mode window to pass', async () => {
      const ack = await cat.request('message:send', { conversationId: id, clientMsgId: 'c4', body: 'later' });
      return ack.ok ? ack : undefined;
    }, 15_000, 200);
    expect(later.seq).toBeGreaterThan(first.seq);
    // Off again: no window.
    await owner.ok('conversation:set_slow_mode', { conversationId: id, seconds: 0 });
    await cat.ok('message:send', { conversationId: id, clientMsgId: 'c5', body: 'free' });
    await cat.ok('message:send', { conversationId: id, clientMsgId: 'c6', body: 'again' });
  });

  it('lets moderators delete any message and remove any member but the owner; plain members only leave', async () => {
    const { owner, mod, bob, cat, id, bobs } = await team('remove');
    const deleted = await mod.ok('message:delete', { conversationId: id, seq: bobs.seq });
    const [gone] = await waitForEvents(cat, 1, (e) => e.type === 'message:deleted');
    expect(gone).toMatchObject({ seq: deleted.seq, targetSeq: bobs.seq });
    const catSays = await cat.ok('message:send', { conversationId: id, clientMsgId: 'c1', body: 'hi' });
    await refusedAll([
      [mod, 'conversation:remove_members', { conversationId: id, userIds: [owner.userId] }, 'FORBIDDEN'],
      [bob, 'conversation:remove_members', { conversationId: id, userIds: [cat.userId] }, 'FORBIDDEN'],
      [bob, 'message:delete', { conversationId: id, seq: catSays.seq }, 'FORBIDDEN'],
    ]);
    const removed = await mod.ok('conversation:remove_members', { conversationId: id, userIds: [bob.userId] });
    const [removal] = await waitForEvents(bob, 1, change('members_removed'));
    expect(removal).toMatchObject({ seq: removed.seq, userIds: [bob.userId] });
    // The owner removes a moderator, whose role goes with its membership.
    await owner.ok('conversation:remove_members', { conversationId: id, userIds: [mod.userId] });
    await owner.ok('conversation:add_members', { conversationId: id, userIds: [mod.userId] });
    const { conversations } = await cat.ok('conversation:list', {});
    expect(conversations.find((c) => c.id === id)?.roles).toEqual({ [owner.userId]: 'owner' });
  });

  it('takes reports from members, shows members nothing, and lists them to the operator with the message in context', async () => {
    const { owner, bob, cat, id, bobs } = await team('report');
    const more: Array<{ seq: number }> = [];
    for (let n = 2; n <= 4; n++) more.push(await bob.ok('message:send', { conversationId: id, clientMsgId: `b${n}`, body: `message ${n}` }));
    expect(await cat.ok('message:report', { conversationId: id, seq: bobs.seq, reason: 'spam: watches' })).toEqual({ ok: true });
    await owner.ok('message:report', { conversationId: id, seq: more[0]!.seq, reason: 'rude' });
    const stranger = await sys().connect('report-stranger');
    await refusedAll([
      [bob, 'message:report', { conversationId: id, seq: bobs.seq, reason: 'my own' }, 'BAD_REQUEST'],
      [stranger, 'message:report', { conversationId: id, seq: bobs.seq, reason: 'nosy' }, 'FORBIDDEN'],
      [cat, 'message:report', { conversationId: id, seq: 999_999, reason: 'missing' }, 'NOT_FOUND'],
      [cat, 'message:report', { conversationId: id, seq: bobs.seq, reason: '' }, 'BAD_REQUEST'],
      [cat, 'message:report', { conversationId: id, seq: bobs.seq, reason: 'x'.repeat(501) }, 'BAD_REQUEST'],
      [cat, 'message:report', { conversationId: id, seq: 0, reason: 'zero' }, 'BAD_REQUEST'],
    ]);
    await caughtUp(sys().ns);
    const page = await admin('GET', '/v1/admin/reports?limit=1&context=1');
    expect(page.status).toBe(200);
    expect(page.body.reports).toEqual([{
      conversationId: id, seq: expect.any(Number), targetSeq: more[0]!.seq, reportedBy: owner.userId, reason: 'rude', reportedAt: expect.any(String),
      message: expect.objectContaining({ seq: more[0]!.seq, body: 'message 2' }),
      context: [expect.objectContaining({ seq: bobs.seq }), expect.objectContaining({ seq: more[0]!.seq }), expect.objectContaining({ seq: more[1]!.seq })],
    }]);
    const next = await admin('GET', `/v1/admin/reports?limit=50&cursor=${page.body.next}`);
    expect(next.body.reports.filter((r: any) => r.conversationId === id).map((r: any) => [r.reportedBy, r.targetSeq, r.reason])).toEqual([[cat.userId, bobs.seq, 'spam: watches']]);
    // Members saw nothing of it: the next event anyone sees is the sentinel after it.
    const sentinel = await bob.ok('message:send', { conversationId: id, clientMsgId: 'sentinel', body: 'after the reports' });
    await waitForEvents(owner, 1, (e) => e.type === 'message' && e.seq === sentinel.seq);
    expect(owner.received.filter((e) => e.conversationId === id && e.seq > more[2]!.seq).map((e) => e.seq)).toEqual([sentinel.seq]);
    expect((await admin('GET', '/v1/admin/reports?cursor=nope!')).status).toBe(400);
    expect((await admin('GET', '/v1/admin/reports?context=11')).status).toBe(400);
  });

  it('lets the operator delete, mute, unmute and remove in any group, as ~operator, with the rules\' codes as statuses', async () => {
    const { owner, bob, cat, id, bobs } = await team('operator');
    const del = await admin('DELETE', `/v1/admin/conversations/${id}/messages/${bobs.seq}`);
    expect(del).toEqual({ status: 200, body: { seq: expect.any(Number) } });
    const [gone] = await waitForEvents(bob, 1, (e) => e.type === 'message:deleted');
    expect(gone).toMatchObject({ seq: del.body.seq, targetSeq: bobs.seq });
    // Every device gets it, the owner's too: the operator is no one's socket.
    await waitForEvents(owner, 1, (e) => e.type === 'message:deleted');

    const until = new Date(Date.now() + 600_000).toISOString();
    const mute = await admin('POST', `/v1/admin/conversations/${id}/members/${owner.userId}/mute`, { until });
    expect(mute).toEqual({ status: 200, body: { seq: expect.any(Number) } });
    const [muted] = await waitForEvents(cat, 1, change('member_muted'));
    expect(muted).toMatchObject({ userIds: [owner.userId], by: '~operator', until });
    expect(await owner.request('message:send', { conversationId: id, clientMsgId: 'o1', body: 'hello' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect((await admin('DELETE', `/v1/admin/conversations/${id}/members/${owner.userId}/mute`)).status).toBe(200);
    await waitForEvents(cat, 1, change('member_unmuted'));
    await owner.ok('message:send', { conversationId: id, clientMsgId: 'o2', body: 'back' });

    const remove = await admin('DELETE', `/v1/admin/conversations/${id}/members/${bob.userId}`);
    expect(remove).toEqual({ status: 200, body: { seq: expect.any(Number) } });
    await waitForEvents(bob, 1, change('members_removed'));

    const { conversation: direct } = await owner.ok('conversation:create', { type: 'direct', members: [cat.userId] });
    const dm = await cat.ok('message:send', { conversationId: direct.id, clientMsgId: 'dm', body: 'rude words' });
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);
    for (const [method, path, body, status, code] of [
      ['POST', `/v1/admin/conversations/${direct.id}/members/${cat.userId}/mute`, {}, 403, 'FORBIDDEN'],
      ['DELETE', `/v1/admin/conversations/${direct.id}/members/${cat.userId}`, undefined, 403, 'FORBIDDEN'],
      ['DELETE', `/v1/admin/conversations/${id}/messages/${bobs.seq}`, undefined, 404, 'NOT_FOUND'],
      ['DELETE', `/v1/admin/conversations/g_missing/messages/1`, undefined, 404, 'NOT_FOUND'],
      ['POST', `/v1/admin/conversations/${id}/members/${cat.userId}/mute`, { until: 'soon' }, 400, 'BAD_REQUEST'],
      ['POST', `/v1/admin/conversations/${id}/members/${bob.userId}/mute`, {}, 400, 'BAD_REQUEST'],
      ['DELETE', `/v1/admin/conversations/${id}/messages/0`, undefined, 400, 'BAD_REQUEST'],
      ['DELETE', `/v1/admin/conversations/bad.id/messages/1`, undefined, 400, 'BAD_REQUEST'],
    ] as const) {
      const answer = await admin(method, path, body);
      expect({ method, path, status: answer.status, code: answer.body?.error?.code }).toEqual({ method, path, status, code });
    }
    expect((await admin('DELETE', `/v1/admin/conversations/${id}/messages/${bobs.seq}`, undefined, 'wrong-token-0123456789')).status).toBe(403);
    expect((await fetch(`${sys().app.url}/v1/admin/conversations/${id}/messages/${bobs.seq}`, { method: 'DELETE' })).status).toBe(401);
    expect(await footprint(sys().ns)).toEqual(before);
    // A direct conversation's message the operator may delete.
    expect((await admin('DELETE', `/v1/admin/conversations/${direct.id}/messages/${dm.seq}`)).status).toBe(200);
  });

  it('blocks a user: its sockets are closed at once, every connect is refused "blocked", until unblocked', async () => {
    const eve = await sys().connect('eve');
    const phone = await sys().connect('eve', { deviceId: 'phone' });
    const closed = Promise.all([eve, phone].map((c) => new Promise<string>((resolve) => c.socket.once('disconnect', (reason) => resolve(reason)))));
    const blocked = await admin('POST', '/v1/admin/users/eve/block');
    expect(blocked).toEqual({ status: 200, body: { userId: 'eve', blocked: true, blockedAt: expect.any(String) } });
    expect(await closed).toEqual(['io server disconnect', 'io server disconnect']);
    expect(await refusedWith(sys().app.url, { token: await tokenFor('eve') })).toBe('blocked');
    expect((await admin('GET', '/v1/admin/users/eve/block')).body).toEqual({ userId: 'eve', blocked: true, blockedAt: blocked.body.blockedAt });
    expect((await admin('GET', '/v1/admin/blocks')).body.blocks).toContainEqual({ userId: 'eve', blockedAt: blocked.body.blockedAt });
    // Blocking again keeps the first time.
    expect((await admin('POST', '/v1/admin/users/eve/block')).body.blockedAt).toBe(blocked.body.blockedAt);
    expect((await admin('POST', '/v1/admin/users/not%20a%20user/block')).status).toBe(400);

    expect(await admin('DELETE', '/v1/admin/users/eve/block')).toEqual({ status: 200, body: { userId: 'eve', blocked: false, wasBlocked: true } });
    const back = await sys().connect('eve');
    expect(back.socket.connected).toBe(true);
    expect((await admin('GET', '/v1/admin/users/eve/block')).body).toEqual({ userId: 'eve', blocked: false });
  });
});
