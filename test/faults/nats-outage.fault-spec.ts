import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { UNLIMITED } from '../support/namespace';
import { usePrivateStack } from '../support/private-services';
import { keepSending } from '../support/senders';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const USERS = ['ann', 'bob', 'cat', 'dan'];

async function readiness(url: string): Promise<{ status: number; down: string[] }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, down: ((await res.json()) as { down: string[] }).down };
}

/** One all-in-one process on a private nats-server (JetStream, own store dir) that the test kills with -9. */
describe('NATS killed (kill -9) and restarted under load', () => {
  let app: AppProcess | undefined;
  const clients: TestClient[] = [];
  const stack = usePrivateStack('natsdown', { nats: true }, UNLIMITED, async () => {
    for (const c of clients) c.close();
    await app?.stop();
  });

  it('never acks falsely: UNAVAILABLE and not-ready while it is down, every acked send stored once and in order after it returns', async () => {
    const { ns, nats } = stack();
    app = await startApp({ env: ns.env });
    const [ann, bob, cat, dan] = await Promise.all(USERS.map((u) => connectClient(app!.url, u, { deviceId: 'phone' })));
    clients.push(ann!, bob!, cat!, dan!);
    const { conversation: group } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat'] });
    const { conversation: direct } = await dan!.ok('conversation:create', { type: 'direct', members: ['ann'] });
    const members = { [group.id]: ['ann', 'bob', 'cat'], [direct.id]: ['ann', 'dan'] };
    const cursors = await cursorsOf(app.url, USERS);

    const ledger = new SendLedger();
    // Longer than the gateway's publish timeout (5 s): the client hears UNAVAILABLE rather than nothing.
    const senders = keepSending(ledger, [
      { client: ann!, conversationId: group.id },
      { client: bob!, conversationId: group.id },
      { client: dan!, conversationId: direct.id },
    ], { prefix: 'nk', timeoutMs: 10_000 });
    await waitFor('sends before the fault', () => (senders.check(), senders.acks() >= 60), 30_000);

    await nats!.kill9();
    await waitFor('/readyz to report nats down', async () => {
      const r = await readiness(app!.url);
      return r.status === 503 && r.down.includes('nats');
    }, 15_000, 50);
    // Each sender has been refused at least once: they are all retrying now.
    await waitFor('every sender to hear UNAVAILABLE', () => (senders.check(), (senders.failures.UNAVAILABLE ?? 0) >= 3), 30_000);
    const acksWhileDown = senders.acks();
    // A few more refusals, with nothing acked in between: there is no log to ack from.
    const refusals = senders.failures.UNAVAILABLE!;
    await waitFor('more refusals while down', () => (senders.check(), senders.failures.UNAVAILABLE! >= refusals + 3), 30_000);
    expect(senders.acks()).toBe(acksWhileDown);
    expect((await readiness(app.url)).down).toContain('nats');

    await nats!.start();
    await waitFor('/readyz to be ready again', async () => (await readiness(app!.url)).status === 200, 30_000, 50);
    await waitFor('sends acked again', () => (senders.check(), senders.acks() >= acksWhileDown + 60), 60_000);
    const result = await senders.stop();
    expect(result.retries).toBeGreaterThan(0);
    // What a client can be told: acked, UNAVAILABLE, or (its own timeout) nothing; never another refusal.
    expect(Object.keys(result.failures).filter((code) => code !== 'UNAVAILABLE' && code !== 'timeout')).toEqual([]);

    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: app.url, members, cursors });
  });
});
