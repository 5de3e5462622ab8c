import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from './app-process';
import type { Placement } from './private-services';
import { waitFor } from './wait';

/** One nats-server of a private cluster: its client URL and whether it runs now. */
export interface NatsNode {
  name: string;
  url: string;
  running(): boolean;
}

/**
 * A private JetStream cluster of nats-server processes on loopback, each with its own
 * store directory: for tests that kill and restart servers. Never the shared 4222.
 */
export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's URL, comma separated: the value of CHAT_NATS_URL. */
  urls: string;
  /** SIGKILL to one node: no shutdown, no flush (its store directory stays). */
  kill9(index: number): Promise<void>;
  /** Starts a killed node again, with the same name, ports and store. */
  restart(index: number): Promise<void>;
  /** Waits until every replica of these streams is current (a restarted node caught up). */
  streamsCurrent(streams: string[], timeoutMs?: number): Promise<void>;
  /** Index of the node that leads this stream now. */
  leaderOf(stream: string): Promise<number>;
  stop(): Promise<void>;
  /** The node's log so far, for failure messages. */
  output(index: number): string;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * On loopback by default (free ports); with `hosts`, node i on hosts[i] (a test host of its
 * own: its address, the standard ports 4222 and 6222).
 */
export async function startNatsCluster(size = 3, opts: { hosts?: Placement[] } = {}): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-nats-cluster-'));
  const clusterName = `c${process.pid}`;
  const hosts = opts.hosts;
  if (hosts && hosts.length !== size) throw new Error(`${size} nodes need ${size} hosts, got ${hosts.length}`);
  const ports = await Promise.all(Array.from({ length: size }, async (_, i) => hosts
    ? { ip: hosts[i]!.ip, exec: hosts[i]!.exec, client: 4222, route: 6222 }
    : { ip: '127.0.0.1', exec: [] as string[], client: await freePort(), route: await freePort() }));
  const logs = ports.map(() => '');
  const running: Array<Running | undefined> = ports.map(() => undefined);

  const launch = (i: number) => {
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats://${p.ip}:${p.route}`).join(',');
    const [file, ...prefix] = [...ports[i]!.exec, 'nats-server'];
    const child = spawn(file!, [...prefix,
      '-a', ports[i]!.ip, '-p', String(ports[i]!.client),
      '-cluster', `nats://${ports[i]!.ip}:${ports[i]!.route}`, '-routes', routes, '-cluster_name', clusterName,
      '-js', '-sd', join(dir, `n${i + 1}`), '-server_name', `n${i + 1}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: Buffer) => {
      logs[i] += d.toString();
      if (logs[i]!.length > 200_000) logs[i] = logs[i]!.slice(-100_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    running[i] = { child, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
  };

  /** JetStream answers through this node: the node is up and the cluster has a meta leader. */
  const jetStreamReady = (i: number) =>
    waitFor(`nats node n${i + 1} to serve JetStream`, async () => {
      if (running[i]?.child.exitCode !== null) throw new Error(`n${i + 1} exited:\n${logs[i]!.slice(-2000)}`);
      const nc = await connect({ servers: `nats://${ports[i]!.ip}:${ports[i]!.client}`, reconnect: false, timeout: 1_000 });
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    }, 30_000, 100);

  const stopAll = async () => {
    for (const r of running) r?.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r?.exited));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    ports.forEach((_, i) => launch(i));
    await Promise.all(ports.map((_, i) => jetStreamReady(i)));
  } catch (err) {
    await stopAll();
    throw err;
  }

  const urls = ports.map((p) => `nats://${p.ip}:${p.client}`);
  return {
    nodes: ports.map((_, i) => ({ name: `n${i + 1}`, url: urls[i]!, running: () => running[i] !== undefined })),
    urls: urls.join(','),
    kill9: async (i) => {
      const r = running[i];
      if (!r) throw new Error(`n${i + 1} is not running`);
      r.child.kill('SIGKILL');
      await r.exited;
      running[i] = undefined;
    },
    restart: async (i) => {
      if (running[i]) throw new Error(`n${i + 1} is running`);
      launch(i);
      await jetStreamReady(i);
    },
    streamsCurrent: async (streams, timeoutMs = 30_000) => {
      const nc = await connect({ servers: urls.filter((_, i) => running[i]) });
      try {
        await waitFor(`every replica of ${streams.join(', ')} to be current`, async () => {
          // Inside the probe: during an election even this may answer "temporarily unavailable".
          const jsm = await jetstreamManager(nc);
          for (const name of streams) {
            const { cluster } = await jsm.streams.info(name);
            const replicas = cluster?.replicas ?? [];
            if (!cluster?.leader || replicas.length !== size - 1 || replicas.some((r) => !r.current || r.offline)) return false;
          }
          return true;
        }, timeoutMs, 100);
      } finally {
        await nc.close();
      }
    },
    leaderOf: async (stream) => {
      const nc = await connect({ servers: urls.filter((_, i) => running[i]) });
      try {
        const leader = (await (await jetstreamManager(nc)).streams.info(stream)).cluster?.leader;
        const index = ports.findIndex((_, i) => `n${i + 1}` === leader);
        if (index < 0) throw new Error(`${stream} has no leader (${leader})`);
        return index;
      } finally {
        await nc.close();
      }
    },
    stop: stopAll,
    output: (i) => logs[i]!,
  };
}
