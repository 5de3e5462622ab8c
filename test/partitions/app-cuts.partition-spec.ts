import type { HostName } from '../support/partition-cluster';
import { NATS_HOSTS, PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { runStormCase, type StormContext } from '../support/partition-storm';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

/** How long each cut lasts: under the 25 s presence lease, past the 5 s publish timeout. */
const CUT_MS = 10_000;
/** Loss lasts longer: retransmissions stretch everything. */
const LOSS_MS = 15_000;

/**
 * One app cut off from one backend, or packets lost at random on one host, during a send
 * storm: the rest goes on, the cut app's clients see UNAVAILABLE and retry, everything
 * converges once the network heals, no process restarted.
 */
describe('an app cut off from a backend, and packet loss, during a send storm', () => {
  let cluster: PartitionCluster | undefined;
  let streams: string[] = [];
  beforeAll(async () => {
    cluster = await startPartitionCluster('appcuts');
    streams = Array.from({ length: PARTITIONS }, (_, p) => `${cluster!.ns.name}_P${p}`);
    await cluster.nats.streamsCurrent(streams);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  /** Cuts `a` from `b` for `ms` while sends go on, then heals and waits for every replica. */
  const cut = async ({ history, moreAcks }: StormContext, what: string, a: HostName[], b: HostName[], opts: { acksDuring?: number } = {}) => {
    const c = cluster!;
    c.net.partition(a, b);
    const at = Date.now();
    history.note(`cut: {${a.join(', ')}} | {${b.join(', ')}} (${what})`);
    // The other gateway's senders go on through any of these cuts.
    await moreAcks(opts.acksDuring ?? 20, `during ${what}`, 30_000);
    await waitFor(`${CUT_MS} ms of ${what}`, () => Date.now() - at >= CUT_MS, CUT_MS + 30_000, 100);
    c.net.heal();
    history.note(`healed (${what})`);
    await c.nats.streamsCurrent(streams, 60_000);
  };

  it('a gateway cut off from Redis: sends go on (they do not need Redis), presence holds (the cut is shorter than the lease)', async () => {
    const result = await runStormCase(cluster!, 'gw-redis', (ctx) => cut(ctx, 'gw1 from Redis', ['gw1'], ['redis']));
    expect(result.problems).toEqual([]);
  });

  it('a gateway cut off from every NATS node: its senders get UNAVAILABLE and retry with the same ids; its receivers catch up by sync', async () => {
    const result = await runStormCase(cluster!, 'gw-nats', (ctx) => cut(ctx, 'gw1 from NATS', ['gw1'], NATS_HOSTS));
    expect(result.problems).toEqual([]);
  });

  it('a projector cut off from Postgres: its partitions wait and then catch up; the others go on', async () => {
    const result = await runStormCase(cluster!, 'proj-pg', (ctx) => cut(ctx, 'proj1 from Postgres', ['proj1'], ['pg']));
    expect(result.problems).toEqual([]);
  });

  it('5% of packets lost at random on the leader of P0, then on the Postgres host', async () => {
    const c = cluster!;
    const result = await runStormCase(c, 'loss', async ({ history, moreAcks }) => {
      const leader = c.natsHost(await waitFor('the leader of P0', () => c.nats.leaderOf(streams[0]!), 30_000, 200));
      for (const host of [leader, 'pg'] as HostName[]) {
        c.net.loss(host, 0.05);
        const at = Date.now();
        history.note(`5% loss on ${host}`);
        await moreAcks(50, `with 5% loss on ${host}`, 60_000);
        await waitFor(`${LOSS_MS} ms of loss on ${host}`, () => Date.now() - at >= LOSS_MS, LOSS_MS + 60_000, 100);
        c.net.heal();
        history.note(`no more loss on ${host}`);
      }
      await c.nats.streamsCurrent(streams, 60_000);
    });
    expect(result.problems).toEqual([]);
  });
});
