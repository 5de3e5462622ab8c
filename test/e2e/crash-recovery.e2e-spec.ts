import { startApp, type AppProcess } from '../support/app-process';
import { allInOneProcesses } from '../support/process-group';
import { connectClient, wholeHistory } from '../support/clients';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** kill -9 of `npm start`'s whole process group: npm, the supervisor, its front and its worker at once. */
describe('crash of the all-in-one', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  beforeAll(() => {
    ns = createNamespace('crash', UNLIMITED);
  });
  afterAll(async () => {
    await app?.stop();
    await ns.cleanup();
  });

  it('keeps every acknowledged message, exactly once with its acked seq, after kill -9 mid-storm and npm start', async () => {
    app = await startApp({ env: ns.env });
    const alice = await connectClient(app.url, 'alice');
    const bob = await connectClient(app.url, 'bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });

    // A storm of sends with 50 always in flight, so the kill lands mid-send and mid-batch.
    const acked = new Map<string, number>();
    const attempted: string[] = [];
    let killed = false;
    const sender = async (lane: number) => {
      for (let i = 0; !killed && i < 1000; i++) {
        const clientMsgId = `c-${lane}-${i}`;
        attempted.push(clientMsgId);
        const r = await alice
          .request('message:send', { conversationId: conversation.id, clientMsgId, body: `storm ${clientMsgId}` }, 3_000)
          .catch(() => undefined);
        if (r?.ok) acked.set(clientMsgId, r.seq);
        else break;
      }
    };
    const storm = Promise.all(Array.from({ length: 50 }, (_, lane) => sender(lane)));
    await waitFor('300 acked sends before the kill', () => acked.size >= 300, 60_000);
    allInOneProcesses(app.child.pid!); // the supervisor and both children are in the group the kill reaches
    await app.kill9();
    killed = true;
    await storm;
    alice.close();
    bob.close();
    expect(acked.size).toBeGreaterThanOrEqual(300);

    app = await startApp({ env: ns.env, script: 'start' });
    const alice2 = await connectClient(app.url, 'alice');
    const history = await waitFor('every acked message projected after the restart', async () => {
      const messages = await wholeHistory(alice2, conversation.id);
      const present = new Set(messages.map((m) => m.clientMsgId));
      return [...acked.keys()].every((id) => present.has(id)) ? messages : undefined;
    }, 60_000, 200);

    const seqByClientId = new Map<string, number[]>();
    for (const m of history) seqByClientId.set(m.clientMsgId, [...(seqByClientId.get(m.clientMsgId) ?? []), m.seq]);
    for (const [clientMsgId, seq] of acked) expect({ clientMsgId, seqs: seqByClientId.get(clientMsgId) }).toEqual({ clientMsgId, seqs: [seq] });
    expect(history.map((m) => m.seq)).toEqual([...history.map((m) => m.seq)].sort((a, b) => a - b));

    // The client retries everything it has no ack for, with the same ids: each lands once.
    const unacked = attempted.filter((id) => !acked.has(id));
    const retried = await Promise.all(
      unacked.map((clientMsgId) => alice2.ok('message:send', { conversationId: conversation.id, clientMsgId, body: `storm ${clientMsgId}` })),
    );
    const last = Math.max(...retried.map((r) => r.seq), ...acked.values());
    const after = await waitFor('the retries projected', async () => {
      const messages = await wholeHistory(alice2, conversation.id);
      return messages.some((m) => m.seq === last) ? messages : undefined;
    }, 60_000, 100);
    expect(after.map((m) => m.clientMsgId).sort()).toEqual([...attempted].sort());
    expect(new Set(after.map((m) => m.seq)).size).toBe(attempted.length);
    for (const [clientMsgId, seq] of acked) expect(after.find((m) => m.clientMsgId === clientMsgId)?.seq).toBe(seq);
    alice2.close();
  });
});
