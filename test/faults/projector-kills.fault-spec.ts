import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { seededRandom } from '../support/random';
import { keepSending } from '../support/senders';
import { waitFor } from '../support/wait';
import { expectRebuildToMatch } from '../support/replay';

jest.setTimeout(400_000);

const KILLS = 20;
const USERS = ['ann', 'bob', 'cat', 'dan'];

/**
 * The gateway and the projector run as separate processes, on the shared services (no
 * service is harmed here, only the projector). Small batches make many commits per run,
 * so that the kills land in all their stages.
 */
describe('a projector killed with SIGKILL 20 times at random points of its batches while sends go on', () => {
  let ns: TestNamespace;
  let gateway: AppProcess | undefined;
  let projector: AppProcess | undefined;
  let pg: Client | undefined;
  let nc: NatsConnection | undefined;
  const clients: TestClient[] = [];
  beforeAll(() => {
    ns = createNamespace('pkills', { ...UNLIMITED, CHAT_PROJECTOR_BATCH: '50' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await pg?.end();
    await nc?.close();
    await projector?.stop();
    await gateway?.stop();
    await ns.cleanup();
  });

  it('loses, doubles and reorders nothing, and ends with read models equal to a rebuild from the log', async () => {
    const random = seededRandom('projector-kills');
    gateway = await startApp({ env: ns.env, script: 'start:gateway' });
    projector = await startApp({ env: ns.env, script: 'start:projector' });
    const [ann, bob, cat, dan] = await Promise.all(USERS.map((u) => connectClient(gateway!.url, u, { deviceId: 'phone' })));
    clients.push(ann!, bob!, cat!, dan!);
    const { conversation: group } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat'] });
    const { conversation: direct } = await dan!.ok('conversation:create', { type: 'direct', members: ['ann'] });
    const members = { [group.id]: ['ann', 'bob', 'cat'], [direct.id]: ['ann', 'dan'] };
    const cursors = await cursorsOf(gateway.url, USERS);

    pg = new Client({ connectionString: ns.databaseUrl, options: '-c search_path=timeline,public' });
    await pg.connect();
    const projected = async () =>
      Number((await pg!.query(`SELECT coalesce(sum(last_seq), 0) AS n FROM checkpoints WHERE projection = 'timeline'`)).rows[0].n);

    nc = await connect({ servers: ns.env.CHAT_NATS_URL });
    const jsm = await jetstreamManager(nc);
    /** Sum over the partitions of their last sequence: what `projected()` reaches once caught up. */
    const logged = async () => {
      let sum = 0;
      for (let p = 0; p < Number(ns.env.CHAT_PARTITIONS); p++) sum += (await jsm.streams.info(`${ns.name}_P${p}`)).state.last_seq;
      return sum;
    };

    const ledger = new SendLedger();
    const senders = keepSending(ledger, [
      { client: ann!, conversationId: group.id },
      { client: bob!, conversationId: group.id },
      { client: dan!, conversationId: direct.id },
    ], { prefix: 'pk', pauseMs: 150 });

    const stages: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const stage = kill % 4 === 3 ? 'between commit and ack' : kill % 4 === 2 ? 'at start' : 'mid-stream';
      // The test hook dies right after its n-th commit, before acking it: a point SIGKILL from outside rarely hits.
      const hook: Record<string, string> = stage === 'between commit and ack' ? { CHAT_TEST_CRASH_AFTER_COMMITS: String(random.int(1, 4)) } : {};
      const from = await projected();
      // The first incarnation is the one started above; with the hook it may die before it ever answers /readyz.
      if (kill > 0) projector = await startApp({ env: { ...ns.env, ...hook }, script: 'start:projector', ready: stage !== 'between commit and ack' });
      if (stage === 'mid-stream') {
        // Somewhere within the backlog: inside a batch, between batches, mid-ack.
        const target = from + random.int(1, Math.max(1, (await logged()) - from));
        await waitFor(`the projector to commit past ${target}`, async () => (senders.check(), (await projected()) >= target), 30_000, 5);
        await projector.kill9();
      } else if (stage === 'at start') {
        await projector.kill9();
      } else {
        const dying = projector;
        await waitFor('the projector to crash by its hook', () => (senders.check(), dying.child.exitCode !== null || dying.child.signalCode !== null), 60_000);
        await dying.kill9(); // its process group, to be sure
        expect(dying.output()).toMatch(/test hook: crashing between commit and ack/);
      }
      stages.push(`${stage}@${from}`);
      // While it is down, sends go on and pile up a backlog for the next incarnation.
      const acks = senders.acks();
      const more = random.int(1, 12);
      await waitFor('sends while the projector is down', () => (senders.check(), senders.acks() >= acks + more), 30_000);
    }

    projector = await startApp({ env: ns.env, script: 'start:projector' });
    const result = await senders.stop();
    await caughtUp(ns);
    expect(stages).toHaveLength(KILLS);
    // The gateway does not need the projector to accept a send: nothing was refused
    // (an ack slower than the client's timeout on a busy machine is only retried).
    expect(Object.keys(result.failures).filter((code) => code !== 'timeout')).toEqual([]);
    expect(ledger.size).toBe(result.acked);
    await expectNothingLost(ns, ledger, { url: gateway.url, members, cursors });

    // A rebuild from the log gives the same read models as the projector that was killed 20 times.
    await projector.stop();
    await expectRebuildToMatch(ns);
  });
});
