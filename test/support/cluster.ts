import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, startApp, type AppProcess } from './app-process';
import { waitFor } from './wait';

/** Several gateways, one projector, HAProxy in front: the system as separate processes. */
export interface Cluster {
  gateways: AppProcess[];
  projector: AppProcess;
  /** The load balancer's URL (deploy/lb/haproxy.cfg). */
  lb: string;
  stop(): Promise<void>;
}

export async function startCluster(env: Record<string, string>, gateways = 3): Promise<Cluster> {
  const projector = await startApp({ env, script: 'start:projector' });
  const gws = await Promise.all(
    Array.from({ length: gateways }, (_, i) => startApp({ env: { ...env, CHAT_NODE_ID: `gw${i + 1}` }, script: 'start:gateway' })),
  );
  const lbPort = await freePort();
  const haproxy = spawn('/usr/sbin/haproxy', ['-db', '-f', join(ROOT, 'deploy/lb/haproxy.cfg')], {
    env: { ...process.env, LB_PORT: String(lbPort), ...Object.fromEntries(gws.map((g, i) => [`GATEWAY_${i + 1}`, `127.0.0.1:${g.port}`])) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let haproxyErrors = '';
  haproxy.stderr!.on('data', (d: Buffer) => (haproxyErrors += d.toString()));
  const lb = `http://127.0.0.1:${lbPort}`;
  const stop = async () => {
    haproxy.kill('SIGKILL');
    await Promise.all([...gws, projector].map((p) => p.stop()));
  };
  try {
    await waitFor('haproxy to route to a gateway', async () => {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${haproxyErrors}`);
      return (await fetch(`${lb}/readyz`).catch(() => undefined))?.status === 200;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { gateways: gws, projector, lb, stop };
}
