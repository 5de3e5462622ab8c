import { PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { cutDuring, runStormCase } from '../support/partition-storm';

jest.setTimeout(300_000);

const FENCED = /checkpoint moved ahead by another writer/;

/**
 * Both projectors run every partition (as when a replacement was started beside a
 * projector that was only cut off). One is cut off from Postgres, then from NATS, during
 * a send storm; the other carries on alone. Once healed, the cut one's batches were folded
 * on checkpoints that moved: the fence refuses them, it skips ahead, and from then on the
 * two race for every batch. Nothing is lost or doubled; live delivery may come out of seq
 * order across the two (docs/reliability.md), which this case alone allows.
 */
describe('two projectors of the same partitions racing after a partition heals', () => {
  let cluster: PartitionCluster | undefined;
  let streams: string[] = [];
  beforeAll(async () => {
    cluster = await startPartitionCluster('racing', { projectorPartitions: ['0-3', '0-3'] });
    streams = Array.from({ length: PARTITIONS }, (_, p) => `${cluster!.ns.name}_P${p}`);
    await cluster.nats.streamsCurrent(streams);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it.each([
    ['from Postgres', 'race-pg', ['pg']],
    ['from NATS', 'race-nats', ['nats1', 'nats2', 'nats3']],
  ] as const)('proj1 cut off %s: the other carries on alone, then the two race at the checkpoint fence', async (what, name, others) => {
    const proj1 = cluster!.apps().find((a) => a.host === 'proj1')!.app;
    const before = proj1.output().length;
    const result = await runStormCase(cluster!, name, (ctx) => cutDuring(ctx, streams, `proj1 ${what}`, ['proj1'], [...others]), { liveMayReorder: true });
    expect(result.problems).toEqual([]);
    expect(proj1.output().slice(before)).toMatch(FENCED);
  });
});
