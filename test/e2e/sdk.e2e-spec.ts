import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatEvent, Message, Typing } from '@chat/contracts';
import { ChatClient } from '@chat/client';
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

  async function client(userId: string): Promise<{ chat: ChatClient; events: ChatEvent[]; typing: Typing[] }> {
    const chat = new ChatClient({ url: sys().app.url, token: () => tokenFor(userId), requestTimeoutMs: 3_000 });
    clients.push(chat);
    const events: ChatEvent[] = [];
    const typing: Typing[] = [];
    chat.on('event', (e) => events.push(e));
    chat.on('typing', (t) => typing.push(t));
    const online = new Promise<void>((resolve) => chat.on('status', (up) => up && resolve()));
    chat.connect();
    await online;
    return { chat, events, typing };
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
});
