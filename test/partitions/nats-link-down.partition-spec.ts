import { startPartitionCluster, PARTITIONS, type PartitionCluster } from '../support/partition-cluster';
import { runStormCase } from '../support/partition-storm';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

/** The fault lasts this long (the 10 s), however fast the rest of the cluster goes on. */
const CUT_MS = 10_000;
/** The sends acked on the majority side soon after the cut, whichever node the apps were connected to. */
const MAJORITY_GOES_ON_MS = 15_000;

describe('one NATS node cut off (link down) for 10 s during a send storm, then back', () => {
  let cluster: PartitionCluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it('keeps accepting sends on the majority, and the node catches up and rejoins; nothing acked is lost or doubled', async () => {
    cluster = await startPartitionCluster('linkdown');
    const c = cluster;
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${c.ns.name}_P${p}`);
    await c.nats.streamsCurrent(streams);
    const result = await runStormCase(c, 'nats-link-down', async ({ history, moreAcks }) => {
      // The node that leads the first partition's stream: its loss costs an election under load.
      const leader = await waitFor('the leader of P0', () => c.nats.leaderOf(streams[0]!), 30_000, 200);
      const host = c.natsHost(leader);
      c.net.linkDown(host);
      const downAt = Date.now();
      history.note(`${host} (leader of P0) link down`);
      // The majority goes on within seconds: leaders elected there, and the apps whose NATS
      // connection was on the cut node notice the unanswered pings and move (nats.connection.ts).
      await moreAcks(20, `with ${host} cut off (the other two elect leaders and go on)`, MAJORITY_GOES_ON_MS);
      history.note(`acks go on without ${host}`);
      await waitFor(`${CUT_MS} ms of ${host} cut off`, () => Date.now() - downAt >= CUT_MS, CUT_MS + 5_000, 100);
      c.net.linkUp(host);
      history.note(`${host} link up`);
      await c.nats.streamsCurrent(streams, 60_000);
      history.note(`${host} caught up: every replica of every stream current`);
    });
    expect(result.problems).toEqual([]);
  });
});
