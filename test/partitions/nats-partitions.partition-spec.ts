import type { HostName } from '../support/partition-cluster';
import { HOSTS, PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { runStormCase, type StormContext } from '../support/partition-storm';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

/** How long each partition lasts: long enough for elections, timeouts and retries to show. */
const PARTITION_MS = 10_000;

/**
 * Partitions made with iptables between the hosts (test/support/netns-hosts.ts), each
 * during a send storm, each with the first partition's stream leader on the cut-off side.
 */
describe('NATS partitions between the hosts during a send storm', () => {
  let cluster: PartitionCluster | undefined;
  let streams: string[] = [];
  beforeAll(async () => {
    cluster = await startPartitionCluster('natsparts');
    streams = Array.from({ length: PARTITIONS }, (_, p) => `${cluster!.ns.name}_P${p}`);
    await cluster.nats.streamsCurrent(streams);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const leaderHost = async (c: PartitionCluster): Promise<HostName> => c.natsHost(await waitFor('the leader of P0', () => c.nats.leaderOf(streams[0]!), 30_000, 200));

  /** Holds the fault for PARTITION_MS while the majority side keeps acking, then heals and waits for every replica. */
  const hold = async (c: PartitionCluster, { history, moreAcks }: StormContext, what: string) => {
    const at = Date.now();
    await moreAcks(20, `during ${what} (the majority side keeps accepting)`, 30_000);
    history.note(`acks go on during ${what}`);
    await waitFor(`${PARTITION_MS} ms of ${what}`, () => Date.now() - at >= PARTITION_MS, PARTITION_MS + 30_000, 100);
    c.net.heal();
    history.note(`healed ${what}`);
    await c.nats.streamsCurrent(streams, 60_000);
    history.note('every replica of every stream current');
  };

  it('a minority (the leader of P0, a gateway and a projector) cut off from the rest: the majority keeps accepting; the minority answers UNAVAILABLE and its clients retry with the same ids', async () => {
    const c = cluster!;
    const result = await runStormCase(c, 'minority', async (ctx) => {
      const leader = await leaderHost(c);
      const minority: HostName[] = [leader, 'gw1', 'proj1'];
      c.net.partition(minority, HOSTS.filter((h) => !minority.includes(h)));
      ctx.history.note(`partition: {${minority.join(', ')}} | the rest`);
      await hold(c, ctx, 'the minority partition');
    });
    expect(result.problems).toEqual([]);
  });

  it('the two other NATS nodes (a majority of the cluster) cut off from the leader of P0 and everything else: the lone leader steps down, the pair elects and serves', async () => {
    const c = cluster!;
    const result = await runStormCase(c, 'majority', async (ctx) => {
      const leader = await leaderHost(c);
      // The NATS majority on one side with one gateway; the old leader with everything else.
      const pair = (['nats1', 'nats2', 'nats3'] as HostName[]).filter((h) => h !== leader);
      const side: HostName[] = [...pair, 'gw2', 'proj2', 'pg', 'redis', 's3', 'notifier'];
      c.net.partition(side, HOSTS.filter((h) => !side.includes(h)));
      ctx.history.note(`partition: {${side.join(', ')}} | {${HOSTS.filter((h) => !side.includes(h)).join(', ')}}`);
      await hold(c, ctx, 'the majority partition');
    });
    expect(result.problems).toEqual([]);
  });

  it('an asymmetric partition: what the leader of P0 sends to the other NATS nodes is dropped, what they send it arrives', async () => {
    const c = cluster!;
    const result = await runStormCase(c, 'asymmetric', async (ctx) => {
      const leader = await leaderHost(c);
      const others = (['nats1', 'nats2', 'nats3'] as HostName[]).filter((h) => h !== leader);
      c.net.dropOneWay([leader], others);
      ctx.history.note(`${leader} -> {${others.join(', ')}} dropped (one way)`);
      await hold(c, ctx, 'the asymmetric partition');
    });
    expect(result.problems).toEqual([]);
  });
});
