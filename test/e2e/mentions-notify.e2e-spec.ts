import { createServer, type Server } from 'node:http';
import type { ConversationSummary, NotifyChanged, ReadMarker } from '@chat/contracts';
import { freePort } from '../support/app-process';
import { connectClient, waitForEvents, type TestClient } from '../support/clients';
import { caughtUp, footprint, query } from '../support/inspect';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const summaryOf = async (c: TestClient, id: string): Promise<ConversationSummary> => (await c.ok('conversation:list', {})).conversations.find((s) => s.id === id)!;
const codeOf = async (c: TestClient, event: string, payload: unknown) => {
  const ack = await c.request(event as 'message:send', payload);
  return ack.ok ? 'ok' : ack.error.code;
};

describe('mentions and unreadMentions', () => {
  const sys = useSystem('mentions', UNLIMITED);

  it('counts the unread messages that mention a member, derived from its marker, never the sender\'s own, nothing once deleted', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'] })).conversation.id;
    const m1 = await alice.ok('message:send', { conversationId: id, clientMsgId: 'm1', body: '@bob @carol look', mentions: ['bob', 'carol', 'bob'] });
    await alice.ok('message:send', { conversationId: id, clientMsgId: 'm2', body: 'no mention' });
    const m3 = await alice.ok('message:send', { conversationId: id, clientMsgId: 'm3', body: '@bob again', mentions: ['bob'] });
    await bob.ok('message:send', { conversationId: id, clientMsgId: 'b1', body: 'me, @bob', mentions: ['bob', 'alice'] });

    const [live] = await waitForEvents(bob, 1, (e) => e.type === 'message' && e.seq === m1.seq);
    expect(live).toMatchObject({ mentions: ['bob', 'carol'] });
    await waitFor('bob: 2 unread mentions', async () => (await summaryOf(bob, id)).unreadMentions === 2);
    expect(await summaryOf(bob, id)).toMatchObject({ unread: 3, unreadMentions: 2, notify: { level: 'all' } });
    expect((await summaryOf(alice, id)).unreadMentions).toBe(1);
    expect((await summaryOf(await sys().connect('carol'), id)).unreadMentions).toBe(1);

    await bob.ok('read', { conversationId: id, seq: m1.seq });
    await waitFor('bob: 1 unread mention', async () => (await summaryOf(bob, id)).unreadMentions === 1);
    await alice.ok('message:delete', { conversationId: id, seq: m3.seq });
    await waitFor('bob: none once the mention is deleted', async () => (await summaryOf(bob, id)).unreadMentions === 0);
  });

  it('refuses a mention of a non-member and more than 50 users with BAD_REQUEST, writing nothing', async () => {
    const alice = await sys().connect('ann');
    const many = Array.from({ length: 51 }, (_, i) => `user${i}`);
    const id = (await alice.ok('conversation:create', { type: 'group', members: many })).conversation.id;
    await caughtUp(sys().ns);
    const written = await footprint(sys().ns);
    const send = (mentions: unknown) => codeOf(alice, 'message:send', { conversationId: id, clientMsgId: `x${Math.random()}`, body: 'x', mentions });
    expect(await send(['user1', 'stranger'])).toBe('BAD_REQUEST');
    expect(await send(many)).toBe('BAD_REQUEST');
    expect(await send('user1')).toBe('BAD_REQUEST');
    expect(await send([''])).toBe('BAD_REQUEST');
    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(written);
    expect(await send(many.slice(0, 50))).toBe('ok');
  });
});

describe('notification settings', () => {
  let hooks: { got: string[]; url: string; server: Server };
  beforeAll(async () => {
    const got: string[] = [];
    const server = createServer((req, res) => {
      got.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(200).end('{}'));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    hooks = { got, url: `http://127.0.0.1:${port}`, server };
  });
  afterAll(() => new Promise<void>((r) => hooks.server.close(() => r())));
  const sys = useSystem('notify', { ...UNLIMITED, CHAT_PUSH_COALESCE: '1ms', CHAT_PUSH_ACTIVE_WITHIN: '1h', CHAT_PUSH_WEBHOOK_HOSTS: '127.0.0.1' });
  const decisionsOf = async (userId: string) =>
    ((await (await fetch(`${sys().app.url}/v1/admin/users/${userId}/push-decisions?limit=50`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as {
      decisions: Array<{ seq: number; decision: string }>;
    }).decisions;

  it('reaches the user\'s other devices live and through sync, shows in the summary, and never reaches the others', async () => {
    const alice = await sys().connect('alice');
    const phone = await sys().connect('bob', { deviceId: 'phone' });
    const laptop = await sys().connect('bob', { deviceId: 'laptop' });
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['bob'] })).conversation.id;
    const since = (await laptop.ok('sync', {})).next;
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const { seq } = await phone.ok('conversation:notify', { conversationId: id, level: 'mentions', muteUntil: until });

    const [live] = (await waitForEvents(laptop, 1, (e) => e.type === 'notify')) as NotifyChanged[];
    expect(live).toEqual({ type: 'notify', conversationId: id, seq, level: 'mentions', muteUntil: until });
    expect((await laptop.ok('sync', { since })).events.filter((e) => e.type === 'notify')).toEqual([live]);
    expect(await summaryOf(laptop, id)).toMatchObject({ notify: { level: 'mentions', muteUntil: until } });
    expect(await summaryOf(alice, id)).toMatchObject({ notify: { level: 'all' } });
    // A later message is the sentinel: alice has it, and nothing of bob's setting came before it.
    const after = await alice.ok('message:send', { conversationId: id, clientMsgId: 'after', body: 'after' });
    await waitFor('alice has her own message in sync', async () => (await alice.ok('sync', { since })).events.some((e) => e.seq === after.seq));
    expect((await alice.ok('sync', { since })).events.filter((e) => e.type === 'notify')).toEqual([]);
    expect(alice.received.filter((e) => e.type === 'notify')).toEqual([]);
    // Unmuting: back to all, no end.
    await laptop.ok('conversation:notify', { conversationId: id, level: 'all' });
    await waitFor('phone sees the unmute', async () => phone.received.some((e) => e.type === 'notify' && e.level === 'all'));
    expect((await summaryOf(phone, id)).notify).toEqual({ level: 'all' });
  });

  it('refuses a muteUntil in the past or unparseable, an unknown level and a stranger, writing nothing', async () => {
    const alice = await sys().connect('ann');
    const mallory = await sys().connect('mallory');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['ben'] })).conversation.id;
    await caughtUp(sys().ns);
    const written = await footprint(sys().ns);
    const notify = (c: TestClient, extra: Record<string, unknown>) => codeOf(c, 'conversation:notify', { conversationId: id, level: 'none', ...extra });
    expect(await notify(alice, { muteUntil: new Date(Date.now() - 60_000).toISOString() })).toBe('BAD_REQUEST');
    expect(await notify(alice, { muteUntil: 'tomorrow' })).toBe('BAD_REQUEST');
    expect(await notify(alice, { muteUntil: '2026-13-40T99:00:00Z' })).toBe('BAD_REQUEST');
    expect(await notify(alice, { level: 'loud' })).toBe('BAD_REQUEST');
    expect(await notify(mallory, {})).toBe('FORBIDDEN');
    await caughtUp(sys().ns);
    expect(await footprint(sys().ns)).toEqual(written);
  });

  it('records muted and not_mentioned decisions and wakes a mentions-only member when mentioned', async () => {
    for (const user of ['quiet', 'picky', 'open']) {
      const c = await connectClient(sys().app.url, user);
      await c.ok('push:register', { platform: 'webhook', token: `${hooks.url}/${user}` });
      c.close();
    }
    await waitFor('three offline', async () => (await query(sys().ns, `SELECT count(*)::int AS n FROM public.user_activity WHERE user_id IN ('quiet', 'picky', 'open')`))[0]!.n === 3);
    const alice = await sys().connect('sender');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['quiet', 'picky', 'open'] })).conversation.id;
    for (const [user, level] of [['quiet', 'none'], ['picky', 'mentions']] as const) {
      const c = await connectClient(sys().app.url, user);
      await c.ok('conversation:notify', { conversationId: id, level });
      c.close();
    }
    await caughtUp(sys().ns);
    const plain = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'plain', body: 'hello all' })).seq;
    const named = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'named', body: '@picky @quiet', mentions: ['picky', 'quiet'] })).seq;
    for (const user of ['quiet', 'picky', 'open']) await waitFor(`${user}'s two decisions`, async () => (await decisionsOf(user)).length === 2, 30_000, 100);
    const decided = async (user: string) => Object.fromEntries((await decisionsOf(user)).map((d) => [d.seq === plain ? 'plain' : d.seq === named ? 'named' : d.seq, d.decision]));
    expect(await decided('quiet')).toEqual({ plain: 'muted', named: 'muted' });
    expect(await decided('picky')).toEqual({ plain: 'not_mentioned', named: 'woken' });
    expect((await decided('open')).plain).toBe('woken');
    expect(hooks.got.filter((p) => p === '/picky')).toHaveLength(1);
    expect(hooks.got.filter((p) => p === '/quiet')).toHaveLength(0);
  });
});

describe('receipts', () => {
  const sys = useSystem('receipts', { ...UNLIMITED, CHAT_PUSH_FANOUT_MAX: '4' });

  it('lists every member\'s marker in a small conversation, kept current by live read events', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const id = (await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'] })).conversation.id;
    const seq = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'm', body: 'seen?' })).seq;
    expect((await alice.ok('receipts', { conversationId: id })).members).toEqual([
      { userId: 'alice', lastReadSeq: 0 }, { userId: 'bob', lastReadSeq: 0 }, { userId: 'carol', lastReadSeq: 0 },
    ]);
    await bob.ok('read', { conversationId: id, seq });
    const [marker] = (await waitForEvents(alice, 1, (e) => e.type === 'read')) as ReadMarker[];
    expect(marker).toMatchObject({ userId: 'bob', seq });
    expect((await alice.ok('receipts', { conversationId: id })).members).toContainEqual({ userId: 'bob', lastReadSeq: seq });
  });

  it('refuses a conversation of CHAT_PUSH_FANOUT_MAX members or more with BAD_REQUEST, and a stranger with FORBIDDEN', async () => {
    const alice = await sys().connect('ann');
    const stranger = await sys().connect('zed');
    const big = (await alice.ok('conversation:create', { type: 'group', members: ['b1', 'b2', 'b3'] })).conversation.id;
    const small = (await alice.ok('conversation:create', { type: 'group', members: ['b1', 'b2'] })).conversation.id;
    expect(await codeOf(alice, 'receipts', { conversationId: big })).toBe('BAD_REQUEST');
    expect(await codeOf(alice, 'receipts', { conversationId: small })).toBe('ok');
    expect(await codeOf(stranger, 'receipts', { conversationId: small })).toBe('FORBIDDEN');
    expect(await codeOf(alice, 'receipts', { conversationId: 42 })).toBe('BAD_REQUEST');
  });
});
