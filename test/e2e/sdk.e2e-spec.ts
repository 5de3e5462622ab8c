import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatEvent, Message, NotifyChanged, ReadMarker, Typing } from '@chat/contracts';
import { ChatClient, MemoryOutboxStore, mentionsIn, withReply, type OutboxEntry } from '@chat/client';
import { ROOT } from '../support/app-process';
import { tokenFor, wholeHistory } from '../support/clients';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('the client SDK package', () => {
  it('has the published shape of an npm package whose entry points exist after the build', () => {
    const dir = join(ROOT, 'libs', 'client');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; type: string; exports: { '.': { import: string; types: string } }; peerDependencies: object };
    expect(pkg).toMatchObject({ name: '@chat/client', type: 'module', peerDependencies: { 'socket.io-client': expect.any(String) } });
    for (const entry of [pkg.exports['.'].import, pkg.exports['.'].types]) expect(existsSync(join(dir, entry))).toBe(true);
    // The declarations refer to the contracts inside the package, not to a path alias.
    expect(readFileSync(join(dir, pkg.exports['.'].types.replace('index.d.ts', 'chat.client.d.ts')), 'utf8')).not.toMatch(/@chat\//);
  });
});

describe('the client SDK against the real server', () => {
  const sys = useSystem('sdk', UNLIMITED);
  const clients: ChatClient[] = [];
  afterAll(() => clients.forEach((c) => c.close()));

  async function client(userId: string, outboxStore?: MemoryOutboxStore): Promise<{ chat: ChatClient; events: ChatEvent[]; typing: Typing[]; outbox: OutboxEntry[] }> {
    const chat = new ChatClient({ url: sys().app.url, token: () => tokenFor(userId), requestTimeoutMs: 3_000, ...(outboxStore && { outboxStore }) });
    clients.push(chat);
    const events: ChatEvent[] = [];
    const typing: Typing[] = [];
    const outbox: OutboxEntry[] = [];
    chat.on('event', (e) => events.push(e));
    chat.on('typing', (t) => typing.push(t));
    chat.on('outbox', (o) => outbox.push(o));
    chat.connect();
    await chat.ready();
    return { chat, events, typing, outbox };
  }

  it('delivers exactly once all 50 messages of a client that went offline while sending, after it reconnects', async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    const { conversation } = await alice.chat.request('conversation:create', { type: 'direct', members: ['bob'] });
    const sends: Array<Promise<{ seq: number }>> = [];
    for (let i = 0; i < 10; i++) sends.push(alice.chat.send(conversation.id, `online ${i}`));
    await Promise.all(sends.slice(0, 10));
    // The network goes: the transport closes under the client, which reconnects by itself.
    alice.chat.socket.io.engine.close();
    for (let i = 10; i < 50; i++) sends.push(alice.chat.send(conversation.id, `offline ${i}`));
    const acks = await Promise.all(sends);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(50);

    // Bob's SDK drops duplicates; his events hold each message once, whatever came live or by sync.
    const messages = await waitFor('bob to have all 50', () => {
      const m = bob.events.filter((e): e is Message => e.type === 'message' && e.conversationId === conversation.id);
      return m.length >= 50 ? m : undefined;
    });
    expect(messages.map((m) => m.body).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `online ${i}`), ...Array.from({ length: 40 }, (_, i) => `offline ${i + 10}`)].sort());
    const history = await waitFor('all 50 in history', async () => {
      const h = await wholeHistory(await sys().connect('bob'), conversation.id);
      return h.length >= 50 ? h : undefined;
    });
    expect(history).toHaveLength(50);
    expect(new Set(history.map((m) => m.clientMsgId)).size).toBe(50);
    expect(history.map((m) => m.seq)).toEqual(acks.map((a) => a.seq).sort((a, b) => a - b));
  });

  it('turns continuous keystrokes into one typing start, and a stop after 3 s idle', async () => {
    const carol = await client('carol');
    const dave = await client('dave');
    const { conversation } = await carol.chat.request('conversation:create', { type: 'direct', members: ['dave'] });
    for (let i = 0; i < 40; i++) {
      carol.chat.keystroke(conversation.id);
      await new Promise((r) => setTimeout(r, 100)); // a person typing for 4 s
    }
    await waitFor('the stop after 3 s idle', () => dave.typing.some((t) => t.state === 'stop'), 10_000);
    expect(dave.typing.map((t) => t.state)).toEqual(['start', 'stop']);
  });

  it('syncs from its stored cursor after a reconnect and sees the messages it missed', async () => {
    const erin = await client('erin');
    const frank = await client('frank');
    const { conversation } = await erin.chat.request('conversation:create', { type: 'direct', members: ['frank'] });
    frank.chat.close();
    for (let i = 0; i < 5; i++) await erin.chat.send(conversation.id, `missed ${i}`);
    const back = new Promise<void>((resolve) => frank.chat.on('status', (up) => up && resolve()));
    frank.chat.connect();
    await back;
    // From sync, then live for anything projected after the sync read: in seq order, once.
    const missed = await waitFor('the five missed messages', () => {
      const m = frank.events.filter((e): e is Message => e.type === 'message' && e.conversationId === conversation.id).map((x) => x.body);
      return m.length >= 5 ? m : undefined;
    });
    expect(missed).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
  });

  it("puts the client's own sends, edits, reactions, deletes and reads into its event stream, once, in seq order", async () => {
    const gina = await client('gina');
    const hal = await client('hal');
    const { conversation } = await gina.chat.request('conversation:create', { type: 'direct', members: ['hal'] });
    const id = conversation.id;
    const { seq: first } = await gina.chat.send(id, 'first');
    const { seq: fromHal } = await hal.chat.send(id, 'from hal');
    await waitFor('hal to be seen by gina', () => gina.events.some((e) => e.type === 'message' && e.seq === fromHal));
    const { seq: edit } = await gina.chat.edit(id, first, 'first, edited');
    const { seq: add } = await gina.chat.react(id, fromHal, '👍');
    // Added twice: a no-op acked with the conversation's last seq, which must not hide the event there.
    await gina.chat.react(id, fromHal, '👍');
    const { seq: remove } = await gina.chat.unreact(id, fromHal, '👍');
    const { seq: del } = await gina.chat.delete(id, first);
    await gina.chat.markRead(id, del);
    const mine = gina.events.filter((e) => e.conversationId === id).map((e) => `${e.type}@${e.seq}`);
    expect(mine).toEqual([
      `conversation@${conversation.lastSeq}`, `message@${first}`, `message@${fromHal}`, `message:edited@${edit}`, `reaction@${add}`, `reaction@${remove}`, `message:deleted@${del}`, `read@${del}`,
    ]);
    expect(gina.events.find((e) => e.type === 'message' && e.seq === first)).toMatchObject({ senderId: 'gina', body: 'first' });
    expect(gina.events.find((e) => e.type === 'reaction' && e.seq === remove)).toMatchObject({ userId: 'gina', op: 'remove', targetSeq: fromHal });
    // The same events come from sync after a reconnect (the server's copies): still once each.
    gina.chat.socket.io.engine.close();
    await waitFor('gina to reconnect and sync', () => gina.chat.online && gina.events.length >= mine.length);
    await gina.chat.ready();
    expect(gina.events.filter((e) => e.conversationId === id).map((e) => `${e.type}@${e.seq}`)).toEqual(mine);
    // Hal sees the same changes live.
    await waitFor('hal to see the delete', () => hal.events.some((e) => e.type === 'message:deleted' && e.targetSeq === first));
  });

  it('shows a send as pending at once, then sent with its seq; a send the server refuses as failed with its code', async () => {
    const ivy = await client('ivy');
    const { conversation } = await ivy.chat.request('conversation:create', { type: 'direct', members: ['jon'] });
    const sent = ivy.chat.send(conversation.id, 'optimistic');
    expect(ivy.outbox).toEqual([expect.objectContaining({ status: 'pending', body: 'optimistic', conversationId: conversation.id })]);
    const clientMsgId = ivy.outbox[0]!.clientMsgId;
    expect(ivy.chat.pending().map((p) => p.clientMsgId)).toEqual([clientMsgId]);
    const { seq } = await sent;
    expect(ivy.outbox.at(-1)).toMatchObject({ status: 'sent', clientMsgId, seq });
    expect(ivy.chat.pending()).toEqual([]);
    // Not a member: FORBIDDEN, which no retry fixes.
    const { conversation: other } = await (await client('kim')).chat.request('conversation:create', { type: 'direct', members: ['lee'] });
    await expect(ivy.chat.send(other.id, 'not mine')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(ivy.outbox.at(-1)).toMatchObject({ status: 'failed', body: 'not mine', error: { code: 'FORBIDDEN' } });
    expect(ivy.events.filter((e) => e.type === 'message').map((e) => (e as Message).body)).toEqual(['optimistic']);
  });

  it('resends after a restart what the outbox store kept, with the same clientMsgId, stored once', async () => {
    const store = new MemoryOutboxStore();
    const mia = await client('mia', store);
    const ned = await client('ned');
    const { conversation } = await mia.chat.request('conversation:create', { type: 'direct', members: ['ned'] });
    // Offline: the send waits in the outbox and its store; then the app is gone.
    mia.chat.close();
    void mia.chat.send(conversation.id, 'before the reload').catch(() => undefined);
    expect(store.load()).toHaveLength(1);
    const kept = store.load()[0]!.clientMsgId;
    const again = await client('mia', store);
    await waitFor('the restored send to be sent', () => again.outbox.find((o) => o.status === 'sent'));
    expect(again.outbox.map((o) => o.status)).toEqual(['pending', 'sent']);
    expect(again.outbox.map((o) => o.clientMsgId)).toEqual([kept, kept]);
    expect(store.load()).toEqual([]);
    // A second restart (the same id again, as after a crash before the store was cleared) is a duplicate, delivered once.
    const [entry] = again.outbox;
    store.put({ conversationId: entry!.conversationId, clientMsgId: entry!.clientMsgId, body: entry!.body, createdAt: entry!.createdAt });
    const third = await client('mia', store);
    const dup = await waitFor('the duplicate answer', () => third.outbox.find((o) => o.status === 'sent'));
    expect(dup).toMatchObject({ duplicate: true, seq: again.outbox[1]!.seq });
    await waitFor('ned to get it', () => ned.events.some((e) => e.type === 'message' && e.body === 'before the reload'));
    const history = await wholeHistory(await sys().connect('ned'), conversation.id);
    expect(history.filter((m) => m.body === 'before the reload')).toHaveLength(1);
    expect(ned.events.filter((e) => e.type === 'message' && e.body === 'before the reload')).toHaveLength(1);
  });

  it('sends a thread reply with mentions optimistically into its thread, pages the thread apart from the main timeline, and keeps the root summary from the replies it sees', async () => {
    const pat = await client('pat');
    const quinn = await client('quinn');
    const { conversation } = await pat.chat.request('conversation:create', { type: 'group', members: ['quinn', 'rex'] });
    const id = conversation.id;
    const { seq: root } = await pat.chat.send(id, 'plans for friday?');
    // Quinn holds the root (from history, before any reply): her copy has no summary yet.
    // (Her connection reads its own writes at once, others' once projected.)
    const rootCopy = await waitFor('quinn to read the root', async () => (await quinn.chat.history(id)).messages[0]);
    expect(rootCopy).toMatchObject({ seq: root, body: 'plans for friday?' });
    expect(rootCopy).not.toHaveProperty('thread');

    const body = '@quinn can you book it? cc @rex.';
    const mentions = mentionsIn(body, conversation.members);
    expect(mentions).toEqual(['quinn', 'rex']);
    const sent = pat.chat.send(id, body, { threadRootSeq: root, mentions });
    // Pending at once, with its root: an app shows it in the thread, not in the main timeline.
    expect(pat.outbox.at(-1)).toMatchObject({ status: 'pending', body, threadRootSeq: root, mentions });
    expect(pat.chat.pending()).toEqual([expect.objectContaining({ threadRootSeq: root, mentions })]);
    const { seq: reply } = await sent;
    expect(pat.outbox.at(-1)).toMatchObject({ status: 'sent', seq: reply, threadRootSeq: root });
    // The own event from the ack, and the live copy quinn gets, name the root and the mentions alike.
    const own = pat.events.find((e): e is Message => e.type === 'message' && e.seq === reply);
    const live = await waitFor('quinn to get the reply', () => quinn.events.find((e): e is Message => e.type === 'message' && e.seq === reply));
    for (const m of [own, live]) expect(m).toMatchObject({ senderId: 'pat', body, threadRootSeq: root, mentions: ['quinn', 'rex'] });
    const { seq: second } = await quinn.chat.send(id, 'booked', { threadRootSeq: root });

    // The main timeline leaves the replies out, its root carries the summary; the thread has the replies.
    const main = await waitFor('pat to read quinn\'s reply projected', async () => {
      const page = await pat.chat.history(id);
      return page.messages[0]?.thread?.lastReplySeq === second && page;
    });
    expect(main.messages.map((m) => m.seq)).toEqual([root]);
    const summary = main.messages[0]!.thread;
    expect(summary).toMatchObject({ replies: 2, lastReplySeq: second, participants: ['quinn', 'pat'] });
    const thread = await pat.chat.threadHistory(id, root);
    expect(thread).toMatchObject({ hasMore: false });
    expect(thread.messages.map((m) => [m.seq, m.body])).toEqual([[reply, body], [second, 'booked']]);
    expect((await pat.chat.threadHistory(id, root, second, 1)).messages.map((m) => m.seq)).toEqual([reply]);
    // Quinn's old copy of the root, brought up to date from the replies she saw (her own from its ack), is the server's.
    const seen = quinn.events.filter((e): e is Message => e.type === 'message' && e.threadRootSeq === root);
    expect(seen.map((m) => m.seq)).toEqual([reply, second]);
    expect(seen.reduce((t, m) => withReply(t, m), rootCopy!.thread)).toEqual(summary);

    // Rex, who has read nothing, counts the replies as unread, and the one that mentions him.
    const rex = await client('rex');
    const forRex = (await rex.chat.request('conversation:list', {})).conversations.find((c) => c.id === id);
    expect(forRex).toMatchObject({ unread: 3, unreadMentions: 1, notify: { level: 'all' } });
  });

  it('sets the notification level and a mute for all of a user\'s devices: the stream hears its own at once, the other device the server\'s, a stale one never', async () => {
    const phone = await client('sam');
    const laptop = await client('sam');
    const { conversation } = await phone.chat.request('conversation:create', { type: 'group', members: ['tess'] });
    const id = conversation.id;
    const notifies = (c: { events: ChatEvent[] }) => c.events.filter((e): e is NotifyChanged => e.type === 'notify' && e.conversationId === id);
    const muteUntil = new Date(Date.now() + 3_600_000);
    await phone.chat.setNotify(id, 'mentions', muteUntil);
    const [own] = notifies(phone);
    expect(own).toEqual({ type: 'notify', conversationId: id, seq: expect.any(Number), level: 'mentions', muteUntil: muteUntil.toISOString() });
    const first = await waitFor('the laptop to hear it', () => notifies(laptop)[0]);
    // The same event on both devices: the ack's seq is the setting's place in the log.
    expect(first).toEqual(own);
    expect((await laptop.chat.request('conversation:list', {})).conversations.find((c) => c.id === id)?.notify).toEqual({ level: 'mentions', muteUntil: muteUntil.toISOString() });

    // The laptop unmutes (a setting without muteUntil ends the mute); the phone hears it live.
    await laptop.chat.setNotify(id, 'all');
    await waitFor('the phone to hear the unmute', () => notifies(phone).some((e) => e.level === 'all'));
    // The phone reconnects: its sync holds the server's copy of its own, older setting, which must not undo the later one.
    const back = new Promise<void>((resolve) => phone.chat.on('status', (up) => up && resolve()));
    phone.chat.socket.io.engine.close();
    await back; // reconnected, and its sync delivered
    expect(notifies(phone).map((e) => e.level)).toEqual(['mentions', 'all']);
    expect((await phone.chat.request('conversation:list', {})).conversations.find((c) => c.id === id)?.notify).toEqual({ level: 'all' });

    // A mute in the past is refused with its code, and nothing reaches the stream.
    await expect(phone.chat.setNotify(id, 'none', new Date(Date.now() - 60_000))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(notifies(phone)).toHaveLength(2);
  });

  it('answers the members\' read markers for "seen by", kept current by the live read events', async () => {
    const uma = await client('uma');
    const vic = await client('vic');
    const { conversation } = await uma.chat.request('conversation:create', { type: 'group', members: ['vic', 'wes'] });
    const id = conversation.id;
    const { seq } = await uma.chat.send(id, 'seen?');
    const before = await uma.chat.receipts(id);
    expect(before.map((r) => r.userId)).toEqual(['uma', 'vic', 'wes']);
    expect(before.find((r) => r.userId === 'vic')!.lastReadSeq).toBeLessThan(seq);
    await vic.chat.markRead(id, seq);
    const read = await waitFor('uma to hear vic read it', () => uma.events.find((e): e is ReadMarker => e.type === 'read' && e.userId === 'vic'));
    expect(read).toMatchObject({ conversationId: id, seq });
    const markers = await uma.chat.receipts(id);
    expect(markers.find((r) => r.userId === 'vic')).toEqual({ userId: 'vic', lastReadSeq: seq });
    expect(markers.find((r) => r.userId === 'wes')!.lastReadSeq).toBeLessThan(seq);
    const stranger = await client('xan');
    await expect(stranger.chat.receipts(id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('searches: an edit found by its new text at once, pages followed with next, a query of operators refused with its code', async () => {
    const alice = await client('alice');
    const { conversation } = await alice.chat.request('conversation:create', { type: 'direct', members: ['bob'] });
    const first = await alice.chat.send(conversation.id, 'quokka one');
    for (let i = 2; i <= 4; i++) await alice.chat.send(conversation.id, `quokka ${i}`);
    await alice.chat.edit(conversation.id, first.seq, 'wombat one');
    expect((await alice.chat.search('wombat')).hits.map((m) => m.seq)).toEqual([first.seq]);
    const page1 = await alice.chat.search('quokka', { conversationId: conversation.id, limit: 2 });
    const page2 = await alice.chat.search('quokka', { conversationId: conversation.id, limit: 2, before: page1.next! });
    expect([...page1.hits, ...page2.hits].map((m) => m.body)).toEqual(['quokka 4', 'quokka 3', 'quokka 2']);
    expect(page2.next).toBeUndefined();
    await expect(alice.chat.search('"" - or')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('tries again, with backoff, when its token function fails, and connects once it answers', async () => {
    let calls = 0;
    const chat = new ChatClient({
      url: sys().app.url, requestTimeoutMs: 3_000,
      token: async () => {
        calls += 1;
        if (calls === 1) throw new Error('the token service is down');
        return tokenFor('olga');
      },
    });
    clients.push(chat);
    chat.connect();
    await chat.ready();
    expect(calls).toBe(2);
    expect(chat.userId).toBe('olga');
  });
});
