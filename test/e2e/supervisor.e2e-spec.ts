import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, wholeHistory } from '../support/clients';
import { createNamespace, type TestNamespace, UNLIMITED } from '../support/namespace';
import { allInOneProcesses, isRunning, processGroup } from '../support/process-group';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** `npm start`: a supervisor with two children, the front (everything on PORT) and the worker (projector, notifier, archiver). */
describe('the all-in-one supervisor', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  beforeAll(() => {
    ns = createNamespace('superv', UNLIMITED);
  });
  afterEach(async () => {
    // Whatever a test left behind (nothing, when it passes).
    await app?.kill9();
    app = undefined;
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  it('restarts a SIGKILLed worker; what was sent while it was down is projected and delivered', async () => {
    app = await startApp({ env: ns.env });
    const url = app.url;
    const before = allInOneProcesses(app.child.pid!);
    const alice = await connectClient(url, 'alice');
    const bob = await connectClient(url, 'bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const first = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'before', body: 'before the kill' });
    await waitFor('the first message at bob', () => bob.messages().some((m) => m.seq === first.seq));

    // The supervisor is held (SIGSTOP) while the worker dies and the sends are made, so that
    // they are certainly made while no worker runs; it restarts the worker once let go.
    process.kill(before.supervisor, 'SIGSTOP');
    process.kill(before.worker, 'SIGKILL');
    await waitFor('the worker gone', () => !processGroup(app!.child.pid!).some((p) => p.pid === before.worker));
    const readiness = async () => {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: (await res.json()) as { down: string[]; checks: Record<string, string> } };
    };
    const notReady = await waitFor('/readyz to name the worker', async () => {
      const r = await readiness();
      return r.status === 503 && r.body.down.includes('worker') ? r : undefined;
    }, 10_000, 20);
    expect(notReady.body.down).toEqual(['worker']);
    const acks: Array<{ seq: number; at: number }> = [];
    for (let i = 0; i < 20; i++) {
      const { seq } = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `while-down-${i}`, body: `while the worker is down ${i}` });
      acks.push({ seq, at: Date.now() });
    }
    process.kill(before.supervisor, 'SIGCONT');
    await waitFor('/readyz 200 again', async () => (await readiness()).status === 200, 30_000, 50);

    const after = allInOneProcesses(app.child.pid!);
    expect(after.worker).not.toBe(before.worker);
    expect({ supervisor: after.supervisor, front: after.front }).toEqual({ supervisor: before.supervisor, front: before.front });
    expect(app.output()).toMatch(/"signal":"SIGKILL","restartInMs":\d+,"msg":"worker exited: restarting"/);
    // The sends were acked before the new worker had started: they were made while it was down.
    const restarted = app.output().split('\n').filter((l) => l.includes('"msg":"worker started"')).map((l) => (JSON.parse(l) as { time: number }).time);
    expect(restarted).toHaveLength(2);
    expect(acks[0]!.at).toBeLessThan(restarted[1]!);

    const expected = [first.seq, ...acks.map((a) => a.seq)];
    await waitFor('every message at bob', () => expected.every((seq) => bob.messages().some((m) => m.seq === seq)), 30_000);
    expect([...new Set(bob.messages().map((m) => m.seq))].sort((a, b) => a - b)).toEqual(expected);
    expect((await wholeHistory(bob, conversation.id)).map((m) => m.seq)).toEqual(expected);
    alice.close();
    bob.close();
  });

  it('stops the front and the worker on SIGINT, and leaves no process of its group', async () => {
    app = await startApp({ env: ns.env });
    const pgid = app.child.pid!;
    const p = allInOneProcesses(pgid);
    const carol = await connectClient(app.url, 'carol');
    let drained = false;
    carol.socket.once('draining', () => (drained = true));

    process.kill(p.supervisor, 'SIGINT');
    await waitFor('the front to drain its sockets (it got the signal)', () => drained, 15_000);
    carol.close();
    expect(await app.exited).toBe(0);
    await waitFor('no process left in the group', () => processGroup(pgid).length === 0, 30_000);
    const out = app.output();
    expect(out).toMatch(/"signal":"SIGINT","msg":"front stopped"/);
    expect(out).toMatch(/"signal":"SIGINT","msg":"worker stopped"/);
    expect(out).toMatch(/"code":0,"msg":"all-in-one stopped"/);
    expect(out).not.toMatch(/did not stop in time|exited: restarting/);
  });

  it('leaves nothing running after kill -9 of its process group', async () => {
    app = await startApp({ env: ns.env });
    const pgid = app.child.pid!;
    // The supervisor's children are in the group, not in groups of their own.
    const p = allInOneProcesses(pgid);
    process.kill(-pgid, 'SIGKILL');
    await waitFor('no process left in the group', () => processGroup(pgid).length === 0, 10_000);
    expect([p.supervisor, p.front, p.worker].filter(isRunning)).toEqual([]);
    await app.exited;
  });

  it('has its children exit by themselves when the supervisor alone is SIGKILLed', async () => {
    app = await startApp({ env: ns.env });
    const pgid = app.child.pid!;
    const p = allInOneProcesses(pgid);
    process.kill(p.supervisor, 'SIGKILL');
    await waitFor('the front and the worker to exit', () => !processGroup(pgid).some((m) => m.pid === p.front || m.pid === p.worker), 30_000);
    expect(count(app.output(), /front: the supervisor is gone: stopping/)).toBe(1);
    expect(count(app.output(), /worker: the supervisor is gone: stopping/)).toBe(1);
    await app.exited;
    expect(processGroup(pgid)).toEqual([]);
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
  });
});
