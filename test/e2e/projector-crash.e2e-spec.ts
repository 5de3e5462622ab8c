import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, wholeHistory } from '../support/clients';
import { caughtUp, readModelChecksums } from '../support/inspect';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { waitFor } from '../support/wait';
import { mixedWorkload } from '../support/workload';
import { replayCli } from '../support/replay';

jest.setTimeout(180_000);

describe('a projector that crashes between its commit and its acks', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  beforeAll(() => {
    ns = createNamespace('pcrash', UNLIMITED);
  });
  afterAll(async () => {
    await app?.stop();
    await ns.cleanup();
  });

  it('is restarted by the supervisor into read models identical to a rebuild from the log, with every acked message once', async () => {
    // The test hook kills the worker process (projector, notifier, archiver) right after the
    // projector's 40th commit, before acking that batch; the supervisor restarts it without
    // the hook. The front stays up, so sends go on being acked while the worker is down.
    app = await startApp({ env: { ...ns.env, CHAT_TEST_CRASH_AFTER_COMMITS: '40' } });
    const url = app.url;
    const users = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((u) => connectClient(url, u)));
    const [ann] = users;
    const { conversation } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat', 'dan'] });
    const acked = new Map<string, number>();
    const attempted: string[] = [];
    const send = async (i: number) => {
      const clientMsgId = `k${i}`;
      attempted.push(clientMsgId);
      const r = await ann!.request('message:send', { conversationId: conversation.id, clientMsgId, body: `around the crash ${i}` }, 3_000).catch(() => undefined);
      if (r?.ok) acked.set(clientMsgId, r.seq);
    };
    const crashed = () => /test hook: crashing between commit and ack/.test(app!.output());
    let i = 0;
    for (; i < 2_000 && !crashed(); i++) await send(i);
    expect(crashed()).toBe(true);
    // Sent while the worker is down and restarting: the restarted projector reads them too.
    for (const end = i + 50; i < end; i++) await send(i);
    const workerStarts = () => app!.output().match(/"msg":"worker started"/g)?.length ?? 0;
    await waitFor('the worker restarted', () => workerStarts() === 2, 30_000);
    // The hook crashed the first incarnation only; the front was never touched.
    expect(app.output().match(/test hook: crashing between commit and ack/g)).toHaveLength(1);
    expect(app.output().match(/"msg":"front spawned"/g)).toHaveLength(1);

    // The client retries what it has no ack for, with the same ids, then carries on.
    for (const clientMsgId of attempted.filter((id) => !acked.has(id))) {
      acked.set(clientMsgId, (await ann!.ok('message:send', { conversationId: conversation.id, clientMsgId, body: 'retried' })).seq);
    }
    await mixedWorkload({ ann: users[0]!, bob: users[1]!, cat: users[2]!, dan: users[3]! }, 1);
    await caughtUp(ns);

    const history = await wholeHistory(ann!, conversation.id);
    expect(history.map((m) => [m.clientMsgId, m.seq])).toEqual([...acked].sort((a, b) => a[1] - b[1]));

    const live = await readModelChecksums(ns);
    expect((await replayCli(ns)).code).toBe(0);
    await waitFor('checksums after the rebuild', async () => (await readModelChecksums(ns)).checkpoints === live.checkpoints);
    expect(await readModelChecksums(ns)).toEqual(live);
    for (const c of users) c!.close();
  });
});
