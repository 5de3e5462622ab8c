import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ROOT, startApp, type AppProcess } from './app-process';
import { connectClient, type TestClient } from './clients';
import { createNamespace, UNLIMITED, type TestNamespace } from './namespace';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { createHosts, type NetHost, type NetHosts } from './netns-hosts';
import { startPrivatePostgres, startPrivateRedis, startPrivateS3, type PrivateService } from './private-services';
import { waitFor } from './wait';

/** Every host of the partition cluster: one per NATS node, one per app process, Postgres and Redis. */
export const HOSTS = ['nats1', 'nats2', 'nats3', 'pg', 'redis', 's3', 'gw1', 'gw2', 'proj1', 'proj2', 'notifier'] as const;
export type HostName = (typeof HOSTS)[number];
export const NATS_HOSTS: HostName[] = ['nats1', 'nats2', 'nats3'];
export const PARTITIONS = 4;

/** An app process on its host, and how to start it again the same way (only tests that kill one need it). */
export interface HostedApp {
  host: HostName;
  app: AppProcess;
}

export interface PartitionCluster {
  net: NetHosts;
  nats: NatsCluster;
  postgres: PrivateService;
  redis: PrivateService;
  s3: PrivateService;
  ns: TestNamespace;
  gateways: HostedApp[];
  projectors: HostedApp[];
  notifier: HostedApp;
  /** Every app process: none may have exited when a case ends (no restart by hand). */
  apps(): HostedApp[];
  /** A client in the root namespace (on the bridge) to gateway `i`. */
  connect(gateway: number, userId: string, deviceId?: string): Promise<TestClient>;
  /** The host a NATS node (0-based) runs on. */
  natsHost(index: number): HostName;
  /** Every app answers /readyz 200 (each found its dependencies again). */
  allReady(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Each node answering is not enough: right after a cluster forms, its meta leader may not
 * take stream creations yet, and a projector fails its boot on "JetStream system
 * temporarily unavailable". Waits until an R3 stream can be made (and removes it).
 */
async function r3StreamsAccepted(urls: string): Promise<void> {
  const nc = await connect({ servers: urls.split(',') });
  try {
    await waitFor('the NATS cluster to accept R3 streams', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'boot_probe', subjects: ['boot_probe.>'], num_replicas: 3 });
      await jsm.streams.delete('boot_probe');
      return true;
    }, 60_000, 250);
  } finally {
    await nc.close();
  }
}

const ENTRY = {
  gateway: 'dist/apps/gateway/src/main.js',
  projector: 'dist/apps/projector/src/main.js',
  notifier: 'dist/apps/notifier/src/main.js',
};

function startOn(h: NetHost, entry: string, port: number, env: Record<string, string>, label: string, extra: Record<string, string> = {}): Promise<AppProcess> {
  return startApp({
    env: { ...env, ...extra },
    script: label,
    port,
    host: h.ip,
    command: { argv: [...h.exec, process.execPath, entry], cwd: ROOT },
  });
}

/**
 * The system on test hosts of its own (test/support/netns-hosts.ts): a 3-node JetStream
 * cluster with R3 partition streams, Postgres and Redis each on a host, two gateways, two
 * projectors (by default each owns half the partitions; `projectorPartitions` changes
 * that, e.g. both owning all of them to race) and the notifier, every one on its host.
 * The test's clients connect from the root namespace over the bridge. `close` kills every
 * process and removes hosts and data, whatever failed.
 */
export async function startPartitionCluster(
  label: string,
  opts: { projectorPartitions?: [string, string]; env?: Record<string, string>; /** Extra env of one app's process (a skewed clock). */ appEnv?: Partial<Record<HostName, Record<string, string>>> } = {},
): Promise<PartitionCluster> {
  const net = createHosts([...HOSTS]);
  const started: { nats?: NatsCluster; postgres?: PrivateService; redis?: PrivateService; s3?: PrivateService; apps: HostedApp[] } = { apps: [] };
  const close = async () => {
    try {
      await Promise.all(started.apps.map((a) => a.app.kill9()));
      await started.nats?.stop();
      await started.postgres?.destroy();
      await started.redis?.destroy();
      await started.s3?.destroy();
    } finally {
      net.destroy();
    }
  };
  try {
    const [nats, postgres, redis, s3] = await Promise.all([
      startNatsCluster(3, { hosts: NATS_HOSTS.map((n) => net.host(n)) }),
      startPrivatePostgres(net.host('pg')),
      startPrivateRedis(net.host('redis')),
      startPrivateS3(net.host('s3')),
    ]);
    Object.assign(started, { nats, postgres, redis, s3 });
    await r3StreamsAccepted(nats.urls);
    const ns = createNamespace(label, {
      ...UNLIMITED,
      CHAT_NATS_URL: nats.urls,
      CHAT_DATABASE_URL: `${postgres.url}/chat`,
      CHAT_REDIS_URL: redis.url,
      CHAT_S3_ENDPOINT: s3.url,
      CHAT_STREAM_REPLICAS: '3',
      CHAT_PARTITIONS: String(PARTITIONS),
      ...opts.env,
    });
    const [p1, p2] = opts.projectorPartitions ?? ['0-1', '2-3'];
    // The first projector creates the database and the streams; the rest start together after it.
    const proj1 = { host: 'proj1' as const, app: await startOn(net.host('proj1'), ENTRY.projector, 3011, { ...ns.env, CHAT_PROJECTOR_PARTITIONS: p1 }, 'proj1', opts.appEnv?.proj1) };
    started.apps.push(proj1);
    const others = await Promise.all([
      startOn(net.host('proj2'), ENTRY.projector, 3012, { ...ns.env, CHAT_PROJECTOR_PARTITIONS: p2 }, 'proj2', opts.appEnv?.proj2).then((app) => ({ host: 'proj2' as const, app })),
      startOn(net.host('gw1'), ENTRY.gateway, 3001, { ...ns.env, CHAT_NODE_ID: 'gw1' }, 'gw1', opts.appEnv?.gw1).then((app) => ({ host: 'gw1' as const, app })),
      startOn(net.host('gw2'), ENTRY.gateway, 3002, { ...ns.env, CHAT_NODE_ID: 'gw2' }, 'gw2', opts.appEnv?.gw2).then((app) => ({ host: 'gw2' as const, app })),
      startOn(net.host('notifier'), ENTRY.notifier, 3021, ns.env, 'notifier', opts.appEnv?.notifier).then((app) => ({ host: 'notifier' as const, app })),
    ].map((p) => p.then((a) => (started.apps.push(a), a))));
    const [proj2, gw1, gw2, notifier] = others;
    const apps = () => [proj1, proj2!, gw1!, gw2!, notifier!];
    return {
      net,
      nats,
      postgres,
      redis,
      s3,
      ns,
      gateways: [gw1!, gw2!],
      projectors: [proj1, proj2!],
      notifier: notifier!,
      apps,
      connect: (gateway, userId, deviceId) => connectClient([gw1!, gw2!][gateway]!.app.url, userId, deviceId ? { deviceId } : {}),
      natsHost: (index) => NATS_HOSTS[index]!,
      allReady: async (timeoutMs = 60_000) => {
        for (const a of apps()) {
          await waitFor(`${a.host} to be ready again`, async () => {
            if (a.app.child.exitCode !== null || a.app.child.signalCode !== null) throw new Error(`${a.host} exited:\n${a.app.output().slice(-3000)}`);
            return (await fetch(`${a.app.url}/readyz`).catch(() => undefined))?.status === 200;
          }, timeoutMs, 200);
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
