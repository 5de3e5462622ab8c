import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ChatEvent } from '@chat/contracts';
import { Names } from '@chat/messaging';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp, projectorConsumers, query } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { keepSending } from '../support/senders';
import { waitFor } from '../support/wait';
import { expectRebuildToMatch } from '../support/replay';

jest.setTimeout(240_000);

const USERS = ['ann', 'bob', 'cat', 'dan'];
const FENCED = /checkpoint moved ahead by another writer/;

/** Every projection's checkpoint, by projection and partition. */
async function checkpoints(ns: TestNamespace): Promise<Map<string, number>> {
  const rows = await query<{ projection: string; partition: number; last_seq: string }>(ns, 'SELECT projection, partition, last_seq FROM checkpoints');
  return new Map(rows.map((r) => [`${r.projection}/${r.partition}`, Number(r.last_seq)]));
}

/** Freezes or thaws a process group: a frozen projector is a stale one, as if cut off mid-batch. */
function signal(app: AppProcess, sig: 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(-app.child.pid!, sig);
}

/**
 * Two projector processes run the same partitions (as after a partition, when a
 * replacement was started beside a projector that was only cut off). Each reads every
 * event through a consumer of its own; the checkpoint fence lets one commit per batch,
 * and the other skips to the checkpoint. One of them is then frozen mid-storm while the
 * other goes on, and thawed: its batches, folded on a checkpoint long gone, must not
 * commit. Both run on the shared services.
 */
describe('two projectors of the same partitions racing, one of them stale', () => {
  let ns: TestNamespace;
  let gateway: AppProcess | undefined;
  const projectors: AppProcess[] = [];
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager;
  const clients: TestClient[] = [];
  beforeAll(() => {
    // Small batches: many commits, so the two meet at the fence often.
    ns = createNamespace('pracing', { ...UNLIMITED, CHAT_PROJECTOR_BATCH: '20' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of projectors) {
      if (p.child.exitCode === null && p.child.signalCode === null) signal(p, 'SIGCONT');
      await p.stop();
    }
    await gateway?.stop();
    await nc?.close();
    await ns.cleanup();
  });

  it('commits every batch once, delivers every message live once, and ends equal to a rebuild', async () => {
    const partitions = Number(ns.env.CHAT_PARTITIONS);
    gateway = await startApp({ env: ns.env, script: 'start:gateway' });
    const [a, b] = [await startApp({ env: ns.env, script: 'start:projector' }), await startApp({ env: ns.env, script: 'start:projector' })];
    projectors.push(a, b);
    nc = await connect({ servers: ns.env.CHAT_NATS_URL });
    jsm = await jetstreamManager(nc);
    for (let p = 0; p < partitions; p++) expect(await projectorConsumers(jsm, ns, 'timeline', p)).toHaveLength(2);

    const [ann, bob, cat, dan] = await Promise.all(USERS.map((u) => connectClient(gateway!.url, u, { deviceId: 'phone' })));
    clients.push(ann!, bob!, cat!, dan!);
    const { conversation: group } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat'] });
    const directs: string[] = [];
    for (const other of ['bob', 'cat', 'dan']) directs.push((await ann!.ok('conversation:create', { type: 'direct', members: [other] })).conversation.id);
    const members: Record<string, string[]> = { [group.id]: ['ann', 'bob', 'cat'], [directs[0]!]: ['ann', 'bob'], [directs[1]!]: ['ann', 'cat'], [directs[2]!]: ['ann', 'dan'] };
    const cursors = await cursorsOf(gateway.url, USERS);

    const ledger = new SendLedger();
    const senders = keepSending(ledger, [
      { client: bob!, conversationId: group.id },
      { client: cat!, conversationId: group.id },
      { client: bob!, conversationId: directs[0]! },
      { client: cat!, conversationId: directs[1]! },
      { client: dan!, conversationId: directs[2]! },
    ], { prefix: 'race', pauseMs: 20 });
    const storm = async (acks: number) => {
      const target = senders.acks() + acks;
      await waitFor(`${acks} more acks`, () => (senders.check(), senders.acks() >= target), 60_000);
    };

    // Both running: they race for every batch.
    await storm(200);

    // One frozen while the other moves every partition's checkpoint well past where it stood.
    signal(a, 'SIGSTOP');
    const frozenAt = await checkpoints(ns);
    const names = new Names(ns.name, partitions);
    const timelineKeys = [...new Set(Object.keys(members).map((id) => `timeline/${names.partitionFor(id)}`))];
    await storm(200);
    await waitFor('the other projector to commit past the frozen one in every partition the storm writes to', async () => {
      senders.check();
      const now = await checkpoints(ns);
      return timelineKeys.every((k) => (now.get(k) ?? 0) >= (frozenAt.get(k) ?? 0) + 20);
    }, 60_000);
    const before = a.output().length;
    signal(a, 'SIGCONT');
    // Thawed, it tries to commit what it folded on the old checkpoint: fenced, it skips ahead.
    await storm(100);
    await waitFor('the thawed projector to be fenced off and skip to the checkpoint', () => (senders.check(), FENCED.test(a.output().slice(before))), 60_000);
    await storm(100);

    const result = await senders.stop();
    expect(Object.keys(result.failures).filter((code) => code !== 'timeout')).toEqual([]);
    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: gateway.url, members, cursors });

    // Live: the receivers stayed connected all along, so each got each message once. Not
    // always in order: what the frozen one committed just before it froze went out when it
    // thawed, after later messages the other had committed (docs/reliability.md).
    const acked = ledger.all();
    let late = 0;
    for (const receiver of [ann!, bob!, cat!, dan!]) {
      const mine = acked.filter((s) => members[s.conversationId]!.includes(receiver.userId) && s.senderId !== receiver.userId);
      const live = () => receiver.received.filter((e): e is Extract<ChatEvent, { type: 'message' }> => e.type === 'message');
      await waitFor(`${receiver.userId} to have every message live`, () => mine.every((s) => live().some((m) => m.conversationId === s.conversationId && m.seq === s.seq)), 30_000);
      for (const id of Object.keys(members)) {
        const seqs = live().filter((m) => m.conversationId === id).map((m) => m.seq);
        expect(seqs).toHaveLength(new Set(seqs).size);
        late += seqs.filter((seq, i) => i > 0 && seq < Math.max(...seqs.slice(0, i))).length;
      }
    }
    console.log(`${acked.length} sends acked; live deliveries that came after a later one: ${late}`);

    // Each stopped projector takes its consumers with it.
    await b.stop();
    for (let p = 0; p < partitions; p++) expect(await projectorConsumers(jsm, ns, 'timeline', p)).toHaveLength(1);
    await a.stop();
    for (let p = 0; p < partitions; p++) expect(await projectorConsumers(jsm, ns, 'timeline', p)).toEqual([]);

    // Nothing committed twice or out of turn: the read models equal a rebuild from the log.
    await expectRebuildToMatch(ns);
  });
});
