import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { decide, type Conversation } from '@chat/domain';
import { appendEvent, Names } from '@chat/messaging';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, type TestClient } from '../support/clients';
import { caughtUp, projectorConsumers, query } from '../support/inspect';
import { cursorsOf, expectNothingLost, SendLedger } from '../support/ledger';
import { UNLIMITED } from '../support/namespace';
import { usePrivateStack } from '../support/private-services';
import { keepSending } from '../support/senders';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const USERS = ['ann', 'bob', 'cat'];
/**
 * The projector retries a failed batch after min(100 ms * 2^attempt, 5 s)
 * (apps/projector/src/partition.pump.ts): from the 6th retry on it waits the full 5 s.
 * Waiting for the 8th means the outage outlasted the whole schedule and two capped retries.
 */
const ATTEMPT_PAST_THE_SCHEDULE = 8;

/** One all-in-one process on a private Postgres that the test stops with `pg_ctl stop -m immediate`. */
describe('Postgres down for longer than the projector\'s backoff schedule while sends go on', () => {
  let app: AppProcess | undefined;
  let nc: NatsConnection | undefined;
  const clients: TestClient[] = [];
  const stack = usePrivateStack('pgdown', { postgres: true }, UNLIMITED, async () => {
    for (const c of clients) c.close();
    await nc?.close();
    await app?.stop();
  });

  it('skips and dead-letters nothing: the projection catches up once it returns, every acked send once, in order', async () => {
    const { ns, postgres } = stack();
    app = await startApp({ env: ns.env });
    const [ann, bob, cat] = await Promise.all(USERS.map((u) => connectClient(app!.url, u, { deviceId: 'phone' })));
    clients.push(ann!, bob!, cat!);
    const { conversation: group } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat'] });
    const members = { [group.id]: USERS };
    const cursors = await cursorsOf(app.url, USERS);

    // Any message JetStream gives up on (max deliveries) or that someone terminates would be dead-lettered.
    const bus = (nc = await connect({ servers: ns.env.CHAT_NATS_URL }));
    const deadLettered: string[] = [];
    for (const kind of ['MAX_DELIVERIES', 'MSG_TERMINATED']) {
      bus.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.${kind}.>`, {
        callback: (_err: Error | null, msg: Msg) => {
          if (msg.subject.includes(`.${ns.name}_P`)) deadLettered.push(msg.subject);
        },
      });
    }

    const ledger = new SendLedger();
    const senders = keepSending(ledger, [
      { client: ann!, conversationId: group.id },
      { client: bob!, conversationId: group.id },
    ], { prefix: 'pg', timeoutMs: 10_000 });
    await waitFor('sends before the fault', () => (senders.check(), senders.acks() >= 60), 30_000);

    await postgres!.kill9();
    await waitFor('/readyz to report postgres down', async () => {
      const res = await fetch(`${app!.url}/readyz`);
      return res.status === 503 && ((await res.json()) as { down: string[] }).down.includes('postgres');
    }, 15_000, 50);

    // The gateway refuses sends it cannot check against the read model (UNAVAILABLE), but
    // the log takes appends all the same: a gateway that checked just before the outage
    // appends its send now. These are the events the projector cannot commit meanwhile.
    const names = new Names(ns.name, Number(ns.env.CHAT_PARTITIONS));
    const partition = names.partitionFor(group.id);
    const js = jetstream(bus);
    // What the gateway knew of the group (its cache), enough for the rules to decide a send.
    const checked: Conversation = { id: group.id, kind: 'group', createdBy: 'ann', createdAt: group.createdAt, members: new Set(USERS), lastSeq: 1, messageCount: 0 };
    for (let i = 0; i < 20; i++) {
      const clientMsgId = `during-outage-${i}`;
      const decision = decide({ type: 'SendMessage', conversationId: group.id, senderId: 'cat', clientMsgId, body: clientMsgId, at: new Date().toISOString() }, checked);
      if (!decision.ok) throw new Error(`the rules refused the send: ${decision.rejection.reason}`);
      const appended = await appendEvent(js, names, partition, decision.events[0]!, { msgId: names.sendMsgId('cat', clientMsgId) });
      ledger.record({ conversationId: group.id, senderId: 'cat', clientMsgId, seq: appended.seq });
    }
    await waitFor(`the projector's batch to fail ${ATTEMPT_PAST_THE_SCHEDULE} times`, () =>
      new RegExp(`"attempt":${ATTEMPT_PAST_THE_SCHEDULE},[^\\n]*batch failed; retrying`).test(app!.output()), 60_000, 100);
    expect(senders.failures.UNAVAILABLE ?? 0).toBeGreaterThan(0);

    await postgres!.start();
    const acksBack = senders.acks();
    await waitFor('sends acked again', () => (senders.check(), senders.acks() >= acksBack + 60), 60_000);
    const result = await senders.stop();
    expect(Object.keys(result.failures).filter((code) => code !== 'UNAVAILABLE' && code !== 'timeout')).toEqual([]);

    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: app.url, members, cursors });
    // Nothing skipped or refused by the rules, nothing given up on by JetStream.
    expect(await query(ns, 'SELECT partition, seq, code FROM rejected_events')).toEqual([]);
    expect(deadLettered).toEqual([]);
    const jsm = await jetstreamManager(bus);
    const consumers = await projectorConsumers(jsm, ns, 'timeline', partition);
    expect(consumers.map((c) => c.config.max_deliver)).toEqual([-1]);
  });
});
