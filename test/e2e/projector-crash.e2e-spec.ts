import { spawn } from 'node:child_process';
import { ROOT, startApp, type AppProcess } from '../support/app-process';
import { connectClient, wholeHistory } from '../support/clients';
import { caughtUp, readModelChecksums } from '../support/inspect';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { waitFor } from '../support/wait';
import { mixedWorkload } from '../support/workload';

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

  it('restarts into read models identical to a rebuild from the log, with every acked message once', async () => {
    // The test hook kills the process right after its 40th commit, before acking that batch.
    app = await startApp({ env: { ...ns.env, CHAT_TEST_CRASH_AFTER_COMMITS: '40' } });
    const url = app.url;
    const [ann, bob, cat, dan] = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((u) => connectClient(url, u)));
    const { conversation } = await ann!.ok('conversation:create', { type: 'group', members: ['bob', 'cat', 'dan'] });
    const acked = new Map<string, number>();
    const attempted: string[] = [];
    for (let i = 0; i < 500 && app.child.exitCode === null; i++) {
      const clientMsgId = `k${i}`;
      attempted.push(clientMsgId);
      const r = await ann!.request('message:send', { conversationId: conversation.id, clientMsgId, body: `before the crash ${i}` }, 3_000).catch(() => undefined);
      if (r?.ok) acked.set(clientMsgId, r.seq);
      else break;
    }
    await app.exited;
    expect(app.output()).toMatch(/test hook: crashing between commit and ack/);
    for (const c of [ann, bob, cat, dan]) c!.close();

    app = await startApp({ env: ns.env });
    const users = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((u) => connectClient(app!.url, u)));
    const [ann2] = users;
    // The client retries what it has no ack for, with the same ids, then carries on.
    for (const clientMsgId of attempted.filter((id) => !acked.has(id))) {
      acked.set(clientMsgId, (await ann2!.ok('message:send', { conversationId: conversation.id, clientMsgId, body: 'retried' })).seq);
    }
    await mixedWorkload({ ann: users[0]!, bob: users[1]!, cat: users[2]!, dan: users[3]! }, 1);
    await caughtUp(ns);

    const history = await wholeHistory(ann2!, conversation.id);
    expect(history.map((m) => [m.clientMsgId, m.seq])).toEqual([...acked].sort((a, b) => a[1] - b[1]));

    const live = await readModelChecksums(ns);
    const replay = await new Promise<number | null>((resolve) => {
      const child = spawn('npm', ['run', '--silent', 'replay', '--', 'timeline'], { cwd: ROOT, env: { ...process.env, ...ns.env }, stdio: 'ignore' });
      child.once('exit', resolve);
    });
    expect(replay).toBe(0);
    await waitFor('checksums after the rebuild', async () => (await readModelChecksums(ns)).checkpoints === live.checkpoints);
    expect(await readModelChecksums(ns)).toEqual(live);
    for (const c of users) c!.close();
  });
});
