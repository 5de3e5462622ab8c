import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, startApp, type AppProcess } from '../support/app-process';
import { connectClient } from '../support/clients';
import { startCluster, type Cluster } from '../support/cluster';
import { createNamespace, TEST_ADMIN_TOKEN, type TestNamespace } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

interface Partition {
  partition: number;
  lastSeq: number;
  checkpoint: number;
  lagEvents: number;
  lagSeconds: number;
}

describe('projection lag in the admin API', () => {
  let ns: TestNamespace;
  let cluster: Cluster;
  let projector: AppProcess | undefined;
  beforeAll(async () => {
    ns = createNamespace('lag');
    cluster = await startCluster(ns.env, { gateways: 1, api: true });
  });
  afterAll(async () => {
    await projector?.stop();
    await cluster?.stop();
    await ns?.cleanup();
  });

  const partitions = async (): Promise<Partition[]> => {
    const res = await fetch(`${cluster.api!.url}/v1/admin/projections`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    return ((await res.json()) as { projections: Array<{ partitions: Partition[] }> }).projections[0]!.partitions;
  };
  const lag = async () => (await partitions()).reduce((sum, p) => sum + p.lagEvents, 0);

  it('grows while the projector is stopped and comes back to zero when it runs again', async () => {
    const alice = await connectClient(cluster.gateways[0]!.url, 'alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    await waitFor('no lag', async () => (await lag()) === 0);

    await cluster.projector.stop();
    for (let i = 0; i < 20; i++) await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: `l${i}`, body: `while stopped ${i}` });
    expect(await lag()).toBe(20);
    const behind = await waitFor('the lag to age', async () => {
      const p = (await partitions()).find((x) => x.lagEvents > 0);
      return p && p.lagSeconds > 0.5 ? p : undefined;
    });
    expect(behind).toMatchObject({ lagEvents: 20, checkpoint: behind.lastSeq - 20 });

    projector = await startApp({ env: ns.env, script: 'start:projector' });
    await waitFor('the lag back to zero', async () => (await lag()) === 0, 30_000);
    expect((await partitions()).every((p) => p.lagSeconds === 0 && p.checkpoint === p.lastSeq)).toBe(true);
    alice.close();
  });
});

describe('/readyz with a private Redis', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  let redis: ChildProcess | undefined;
  let port = 0;
  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('the private redis', async () => {
      const { Redis } = await import('ioredis');
      const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  };
  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    ns = createNamespace('readyz', { CHAT_REDIS_URL: `redis://127.0.0.1:${port}` });
    app = await startApp({ env: ns.env });
  });
  afterAll(async () => {
    await app?.stop();
    try {
      // The namespace's keys are in the private Redis (cleanup follows the namespace's URLs): up again if a test left it down.
      if (redis && (redis.exitCode !== null || redis.signalCode !== null)) await startRedis();
      await ns?.cleanup();
    } finally {
      redis?.kill('SIGKILL');
    }
  });

  it('answers 503 naming redis while it is down, and 200 again by itself when it is back', async () => {
    const ready = async () => {
      const res = await fetch(`${app!.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { down: string[]; checks: Record<string, string> } };
    };
    expect((await ready()).status).toBe(200);
    redis!.kill('SIGTERM');
    const down = await waitFor('readyz 503', async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.down).toEqual(['redis']);
    expect(down.body.checks.redis).toMatch(/^down/);
    expect((await fetch(`${app!.url}/healthz`)).status).toBe(200);

    await startRedis();
    await waitFor('readyz 200 again', async () => (await ready()).status === 200, 30_000);
  });
});
