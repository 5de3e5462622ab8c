import type { HostName } from '../support/partition-cluster';
import { PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { cutDuring, runStormCase } from '../support/partition-storm';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

/** Loss lasts longer: retransmissions stretch everything. */
const LOSS_MS = 15_000;

/**
 * One app cut off from one backend (from NATS: gateway-nats-cut.partition-spec.ts), or packets lost at random on one host, during a send
 * storm: the rest goes on, the cut app's clients see UNAVAILABLE and retry, everything
 * converges once the network heals, no process restarted.
 */
describe('an app cut off from Redis or Postgres, and packet loss, during a send storm', () => {
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

  it('a gateway cut off from Redis: sends go on (they do not need Redis), presence holds (the cut is shorter than the lease)', async () => {
    const result = await runStormCase(cluster!, 'gw-redis', (ctx) => cutDuring(ctx, streams, 'gw1 from Redis', ['gw1'], ['redis']));
    expect(result.problems).toEqual([]);
  });

  it('a projector cut off from Postgres: its partitions wait and then catch up; the others go on', async () => {
    const result = await runStormCase(cluster!, 'proj-pg', (ctx) => cutDuring(ctx, streams, 'proj1 from Postgres', ['proj1'], ['pg']));
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
