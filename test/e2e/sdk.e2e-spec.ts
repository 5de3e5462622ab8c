import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatEvent, Message, Typing } from '@chat/contracts';
import { ChatClient, MemoryOutboxStore, type OutboxEntry } from '@chat/client';
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
