import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, startApp, type AppProcess } from './app-process';
import { connectClient, type TestClient } from './clients';
import { createNamespace, type TestNamespace } from './namespace';
import { waitFor } from './wait';

/** Gateways, a projector, the admin api and HAProxy in front: the system as separate processes. */
export interface Cluster {
  gateways: AppProcess[];
  projector: AppProcess;
  /** Every projector: one, or one per entry of `projectorPartitions`. */
  projectors: AppProcess[];
  api?: AppProcess;
  /** The load balancer's URL (deploy/lb/haproxy.cfg, which names three gateways). */
  lb: string;
  stop(): Promise<void>;
}

export async function startCluster(
  env: Record<string, string>,
  opts: { gateways?: number; api?: boolean; /** One projector per entry, each with that CHAT_PROJECTOR_PARTITIONS. */ projectorPartitions?: string[] } = {},
): Promise<Cluster> {
  const count = opts.gateways ?? 3;
  const [first, ...more] = (opts.projectorPartitions ?? [undefined]).map((partitions) => ({
    env: { ...env, ...(partitions !== undefined && { CHAT_PROJECTOR_PARTITIONS: partitions }) },
    script: 'start:projector',
  }));
  // The first process creates the database and the streams; the others start together after it.
  const projector = await startApp(first!);
  const [others, api, ...gws] = await Promise.all([
    Promise.all(more.map((p) => startApp(p))),
    opts.api ? startApp({ env, script: 'start:api' }) : Promise.resolve(undefined),
    ...Array.from({ length: count }, (_, i) => startApp({ env: { ...env, CHAT_NODE_ID: `gw${i + 1}` }, script: 'start:gateway' })),
  ]);
  const projectors = [projector, ...others];
  const processes = [...projectors, ...(api ? [api] : []), ...(gws as AppProcess[])];
  const lbPort = await freePort();
  const haproxy = count === 3
    ? spawn('/usr/sbin/haproxy', ['-db', '-f', join(ROOT, 'deploy/lb/haproxy.cfg')], {
        env: { ...process.env, LB_PORT: String(lbPort), ...Object.fromEntries(gws.map((g, i) => [`GATEWAY_${i + 1}`, `127.0.0.1:${g!.port}`])) },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : undefined;
  let haproxyErrors = '';
  haproxy?.stderr!.on('data', (d: Buffer) => (haproxyErrors += d.toString()));
  const lb = haproxy ? `http://127.0.0.1:${lbPort}` : gws[0]!.url;
  const stop = async () => {
    haproxy?.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    await waitFor('the load balancer to route to a gateway', async () => {
      if (haproxy && haproxy.exitCode !== null) throw new Error(`haproxy exited: ${haproxyErrors}`);
      return (await fetch(`${lb}/readyz`).catch(() => undefined))?.status === 200;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { gateways: gws as AppProcess[], projector, projectors, ...(api && { api }), lb, stop };
}

/** A file's cluster on its own namespace, and the clients its tests opened on its gateways. */
export interface UsedCluster {
  ns: TestNamespace;
  cluster: Cluster;
  /** A client of `userId` on gateway `gateway` (0-based), closed after the file's tests. */
  connect(gateway: number, userId: string, deviceId?: string): Promise<TestClient>;
  /** Closed after the file's tests: the clients `connect` opened, and any a test adds. */
  clients: TestClient[];
}

/** Starts a cluster before the file's tests and removes it after; call inside `describe`. */
export function useCluster(label: string, env: Record<string, string>, opts: Parameters<typeof startCluster>[1] = {}): UsedCluster {
  const clients: TestClient[] = [];
  const used = {
    clients,
    connect: async (gateway: number, userId: string, deviceId?: string) => {
      const c = await connectClient(used.cluster.gateways[gateway]!.url, userId, deviceId ? { deviceId } : {});
      clients.push(c);
      return c;
    },
  } as UsedCluster;
  beforeAll(async () => {
    used.ns = createNamespace(label, env);
    used.cluster = await startCluster(used.ns.env, opts);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await used.cluster?.stop();
    await used.ns?.cleanup();
  });
  return used;
}
