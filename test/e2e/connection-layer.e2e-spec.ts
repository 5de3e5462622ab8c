import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { Message } from '@chat/contracts';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, refusedWith, tokenFor, wholeHistory, type TestClient } from '../support/clients';
import { query } from '../support/inspect';
import { createNamespace, TEST_ADMIN_TOKEN, UNLIMITED, type TestNamespace } from '../support/namespace';
import { holdTableLock } from '../support/pg-lock';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

describe('typing and presence', () => {
  const sys = useSystem('typing');

  it('turns 30 typing starts in 1.5 s into 1 or 2 events at the other member, and passes stop', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    for (let i = 0; i < 30; i++) {
      await alice.ok('typing', { conversationId: conversation.id, state: 'start' });
      await new Promise((r) => setTimeout(r, 50)); // the keystrokes' own pace, not a wait for the server
    }
    await alice.ok('typing', { conversationId: conversation.id, state: 'stop' });
    await waitFor('the stop', () => bob.typing.some((t) => t.state === 'stop'));
    const starts = bob.typing.filter((t) => t.state === 'start');
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeLessThanOrEqual(2);
    expect(starts[0]).toEqual({ type: 'typing', conversationId: conversation.id, userId: 'alice', state: 'start' });
    // The typer's own devices are not told; non-members may not type there.
    expect(alice.typing).toEqual([]);
    const mallory = await sys().connect('mallory');
    expect(await mallory.request('typing', { conversationId: conversation.id, state: 'start' })).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
  });

  it('reports each online/offline transition exactly once, across devices', async () => {
    const watcher = await sys().connect('watcher');
    // Presence is for users who share a conversation.
    await watcher.ok('conversation:create', { type: 'direct', members: ['dora'] });
    const { presence } = await watcher.ok('presence:subscribe', { userIds: ['dora'] });
    expect(presence).toEqual([{ userId: 'dora', status: 'offline' }]);
    const phone = await sys().connect('dora', { deviceId: 'phone' });
    await waitFor('online', () => watcher.presence.length === 1);
    const laptop = await sys().connect('dora', { deviceId: 'laptop' });
    phone.close();
    laptop.close();
    await waitFor('offline', () => watcher.presence.length >= 2);
    const again = await sys().connect('dora');
    await waitFor('online again', () => watcher.presence.length >= 3);
    again.close();
    await waitFor('offline again', () => watcher.presence.length >= 4);
    // A round trip after the last transition: any extra event would have arrived before its answer.
    await watcher.ok('presence:subscribe', { userIds: ['dora'] });
    expect(watcher.presence.map((p) => p.status)).toEqual(['online', 'offline', 'online', 'offline']);
    expect(watcher.presence[1]).toEqual({ userId: 'dora', status: 'offline', lastSeenAt: expect.any(String) });
    await watcher.ok('presence:unsubscribe', { userIds: ['dora'] });
    const last = await sys().connect('dora');
    last.close();
    await watcher.ok('sync', {});
    expect(watcher.presence).toHaveLength(4);
  });
});

describe('protection', () => {
  const sys = useSystem('protect', { CHAT_MAX_CONNECTIONS_PER_USER: '3', CHAT_ALLOWED_ORIGINS: 'https://app.example.com', CHAT_PUBLIC_URL: 'https://chat.example.com/' });

  it('answers a flood of 10,000 sends from one socket with RATE_LIMITED, while the other clients keep being served', async () => {
    const flooder = await sys().connect('flooder');
    await sys().connect('target');
    const { conversation: floodConv } = await flooder.ok('conversation:create', { type: 'direct', members: ['target'] });
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });

    const flood = Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        flooder.request('message:send', { conversationId: floodConv.id, clientMsgId: `f${i}`, body: 'spam' }, 60_000),
      ),
    );
    // Meanwhile, the other pair is served: each probe acked and delivered while the flood is
    // being answered. How fast is the benchmark's business (npm run bench), not a test's.
    for (let i = 0; i < 20; i++) {
      const sent = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `p${i}`, body: `probe ${i}` });
      await waitFor('the probe', () => bob.messages().some((m: Message) => m.seq === sent.seq), 20_000, 2);
    }
    const acks = await flood;
    const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(9_000);
    expect(limited.every((a) => !a.ok && a.error.retryAfterMs! > 0)).toBe(true);
    expect(acks.filter((a) => a.ok).length).toBeLessThan(1_000);
    expect(flooder.socket.connected).toBe(true);
  });

  it('refuses a socket from a foreign Origin on both transports, and accepts the public and the allowed ones', async () => {
    const token = await tokenFor('origin-user');
    // With CHAT_PUBLIC_URL set, the address the client dialled is not an origin of the server's (nor is its Host).
    for (const origin of ['https://evil.example.com', sys().app.url]) {
      for (const transports of [['websocket'], ['polling']] as const) {
        expect(await refusedWith(sys().app.url, { token }, { transports: [...transports], extraHeaders: { origin } })).toMatch(/origin not allowed|xhr poll error|websocket error/);
      }
    }
    for (const origin of ['https://app.example.com', 'https://chat.example.com']) {
      const ok = io(sys().app.url, { auth: { token }, transports: ['websocket'], extraHeaders: { origin }, forceNew: true, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        ok.once('connect', () => resolve());
        ok.once('connect_error', reject);
      });
      ok.disconnect();
    }
  });

  it('caps the connections of one user', async () => {
    const three = await Promise.all([1, 2, 3].map((d) => sys().connect('capped', { deviceId: `d${d}` })));
    expect(await refusedWith(sys().app.url, { token: await tokenFor('capped', { deviceId: 'd4' }) })).toBe('too many connections');
    three[0]!.close();
    await waitFor('a free slot', async () => {
      const c = await connectClient(sys().app.url, 'capped', { deviceId: 'd5' }).catch(() => undefined);
      c?.close();
      return c !== undefined;
    });
  });
});

describe('the connection cap under a burst of handshakes', () => {
  const sys = useSystem('capburst', { CHAT_MAX_CONNECTIONS_PER_USER: '20' });

  it('admits exactly 20 of 150 concurrent handshakes of one user and refuses the other 130 with "too many connections"', async () => {
    const token = await tokenFor('burst');
    const attempts = await Promise.all(
      Array.from({ length: 150 }, () => new Promise<{ socket: Socket; outcome: string }>((resolve) => {
        const socket = io(sys().app.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        socket.once('connect', () => resolve({ socket, outcome: 'connected' }));
        socket.once('connect_error', (err) => resolve({ socket, outcome: err.message }));
      })),
    );
    try {
      const admitted = attempts.filter((a) => a.outcome === 'connected');
      expect(admitted).toHaveLength(20);
      expect(attempts.filter((a) => a.outcome === 'too many connections')).toHaveLength(130);
      // The registry holds exactly the leases of the admitted sockets: no refused one left one behind.
      const res = await fetch(`${sys().app.url}/v1/admin/users/burst/connections?limit=200`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      const { connections } = (await res.json()) as { connections: Array<{ connectionId: string }> };
      expect(connections.map((c) => c.connectionId).sort()).toEqual(admitted.map((a) => a.socket.id).sort());
    } finally {
      for (const { socket } of attempts) socket.disconnect();
    }
  });
});

describe('a handshake while every Postgres connection is busy', () => {
  const sys = useSystem('poolbusy', UNLIMITED);

  it('waits its turn past the pool timeout (5 s) instead of being refused, and is admitted once a connection frees', async () => {
    const reader = await sys().connect('reader');
    const { next } = await reader.ok('sync', {});
    const poolWaits = async () => Number(/^chat_admission_pool_waits_total (\d+)/m.exec(await (await fetch(`${sys().app.url}/metrics`)).text())?.[1] ?? 0);
    const lock = await holdTableLock(sys().ns, 'inbox', 'ACCESS EXCLUSIVE');
    let stuck: Array<Promise<unknown>> = [];
    let late: Promise<TestClient> | undefined;
    try {
      // Syncs from a cursor read the inbox: each holds a pooled connection, blocked on the lock.
      // A connection has at most 4 queries under way (CHAT_MAX_QUERIES_IN_FLIGHT): eight devices, four each.
      const readers = [reader, ...(await Promise.all(Array.from({ length: 7 }, (_, i) => sys().connect('reader', { deviceId: `r${i}` }))))];
      stuck = readers.flatMap((r) => Array.from({ length: 4 }, () => r.request('sync', { since: next }, 60_000)));
      await waitFor('all 20 pooled connections blocked', async () => {
        const [row] = await query<{ n: number }>(sys().ns, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return row!.n >= 20;
      });
      late = connectClient(sys().app.url, 'late');
      late.catch(() => undefined); // judged below, once the lock is gone
      await waitFor('the handshake to wait out a pool timeout', async () => (await poolWaits()) > 0, 20_000, 100);
    } finally {
      await lock.release();
    }
    const client = await late!;
    expect(client.socket.connected).toBe(true);
    client.close();
    await Promise.all(stuck);
  });
});

describe('a slow client', () => {
  const sys = useSystem('slow', UNLIMITED);

  it('is disconnected once too much waits for it, instead of growing the gateway\'s memory', async () => {
    const sender = await sys().connect('sender');
    await sys().connect('slow');
    const { conversation } = await sender.ok('conversation:create', { type: 'direct', members: ['slow'] });
    const node = async () => (await (await fetch(`${sys().app.url}/v1/admin/node`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { connections: number };
    // A raw Engine.IO client that connects, then stops reading from its TCP socket.
    const url = `${sys().app.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const raw = new WebSocket(url);
    await new Promise<void>((resolve) => raw.once('open', () => resolve()));
    raw.send(`40${JSON.stringify({ token: await tokenFor('slow', { deviceId: 'raw' }) })}`);
    await new Promise<void>((resolve) => raw.on('message', (m) => String(m).startsWith('40') && resolve()));
    const before = (await node()).connections;
    (raw as unknown as { _socket: { pause(): void } })._socket.pause();

    const body = 'x'.repeat(8_000);
    let i = 0;
    await waitFor('the slow socket to be dropped', async () => {
      await Promise.all(Array.from({ length: 200 }, () => sender.ok('message:send', { conversationId: conversation.id, clientMsgId: `s${i++}`, body })));
      return (await node()).connections === before - 1;
    }, 90_000, 0);
    raw.terminate();
  });
});

describe('graceful drain on SIGTERM', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  let other: AppProcess | undefined;
  beforeAll(() => {
    ns = createNamespace('drain', UNLIMITED);
  });
  afterAll(async () => {
    await app?.stop();
    await other?.stop();
    await ns.cleanup();
  });

  it('tells its clients, lets what is in flight finish, and loses no acknowledged message', async () => {
    // The gateway to drain runs alone; the other process also runs the projector.
    app = await startApp({ env: ns.env, script: 'start:gateway' });
    other = await startApp({ env: ns.env });
    const reader = await connectClient(other.url, 'reader');
    const writer: TestClient = await connectClient(app.url, 'writer');
    const draining = new Promise<unknown>((resolve) => writer.socket.once('draining', resolve));
    const { conversation } = await writer.ok('conversation:create', { type: 'direct', members: ['reader'] });
    const acked: number[] = [];
    let open = true;
    writer.socket.on('disconnect', () => (open = false));
    const sending = (async () => {
      for (let i = 0; open; i++) {
        const r = await writer.request('message:send', { conversationId: conversation.id, clientMsgId: `w${i}`, body: `w${i}` }, 5_000).catch(() => undefined);
        if (r?.ok) acked.push(r.seq);
      }
    })();
    await waitFor('some traffic', () => acked.length >= 20);
    process.kill(-app.child.pid!, 'SIGTERM');
    expect(await draining).toEqual({ reconnectInMs: 0 });
    await sending;
    await app.exited;
    expect(app.output()).toMatch(/"msg":"draining"/);
    app = undefined;
    // Every acked message is stored and reaches the reader on the other gateway.
    await waitFor('every acked message at the reader', () => acked.every((s) => reader.messages().some((m) => m.seq === s)), 30_000);
    const history = await wholeHistory(reader, conversation.id);
    expect(history.map((m: Message) => m.seq)).toEqual(expect.arrayContaining(acked));
  });
});
