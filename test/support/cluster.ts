import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, startApp, type AppProcess } from './app-process';
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
