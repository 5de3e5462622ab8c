import { Redis } from 'ioredis';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { usePrivateStack } from '../support/private-services';
import { keepSending } from '../support/senders';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const USERS = ['ann', 'bob', 'cat'];
/** The promise: presence and the connection registry are rebuilt within 30 s of losing Redis's data. */
const REBUILT_WITHIN_MS = 30_000;

/** One all-in-one process on a private redis-server (no persistence) that the test flushes, then kills. */
describe('Redis flushed, then killed and restarted empty, while sends go on', () => {
  let app: AppProcess | undefined;
  let redis: Redis | undefined;
  const clients: TestClient[] = [];
  const stack = usePrivateStack('redisdown', { redis: true }, UNLIMITED, async () => {
    for (const c of clients) c.close();
    redis?.disconnect();
    await app?.stop();
  });

  const admin = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${app!.url}/v1/admin${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  };

  it('keeps delivering, and rebuilds presence and the connection registry within 30 s each time', async () => {
    const { ns, redis: server } = stack();
    app = await startApp({ env: ns.env });
    const [ann, bob, cat] = await Promise.all(USERS.map((u) => connectClient(app!.url, u, { deviceId: 'phone' })));
    clients.push(ann!, bob!, cat!);
    const { conversation: group } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat'] });
    const members = { [group.id]: USERS };
    const cursors = await cursorsOf(app.url, USERS);

    const ledger = new SendLedger();
    // bob only listens: every message of ann and cat reaches him live, or through sync at the end.
    const senders = keepSending(ledger, [
      { client: ann!, conversationId: group.id },
      { client: cat!, conversationId: group.id },
    ], { prefix: 'rd', timeoutMs: 10_000 });
    await waitFor('sends before the fault', () => (senders.check(), senders.acks() >= 30), 30_000);

    /** Presence, the registry and live delivery all work again, within the promise. */
    const rebuilt = async (after: string) => {
      const lastSeq = Math.max(...ledger.all().map((s) => s.seq));
      await waitFor(`presence, registry and live delivery ${after}`, async () => {
        senders.check();
        for (const c of [ann!, bob!, cat!]) {
          const presence = await admin<{ status: string }>(`/users/${c.userId}/presence`);
          if (presence.status !== 'online') throw new Error(`${c.userId} is ${presence.status}`);
          const { connections } = await admin<{ connections: Array<{ connectionId: string }> }>(`/users/${c.userId}/connections`);
          if (!connections.some((l) => l.connectionId === c.socket.id)) throw new Error(`${c.userId}'s connection is not registered`);
        }
        // A message acked after the fault reaches bob live (delivery routes through the registry).
        if (!bob!.messages().some((m) => m.seq > lastSeq)) throw new Error(`bob received nothing live after seq ${lastSeq}`);
        return true;
      }, REBUILT_WITHIN_MS, 100);
    };

    redis = new Redis(server!.url);
    await redis.flushall();
    await rebuilt('after FLUSHALL');

    await server!.kill9();
    await waitFor('/readyz to report redis down', async () => {
      const res = await fetch(`${app!.url}/readyz`);
      return res.status === 503 && ((await res.json()) as { down: string[] }).down.includes('redis');
    }, 15_000, 50);
    await server!.start();
    await rebuilt('after a restart with no data');

    const acks = senders.acks();
    await waitFor('more sends', () => (senders.check(), senders.acks() >= acks + 20), 30_000);
    const result = await senders.stop();
    // Sends do not need Redis: none was refused.
    expect(Object.keys(result.failures).filter((code) => code !== 'timeout')).toEqual([]);
    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: app.url, members, cursors });
  });
});
