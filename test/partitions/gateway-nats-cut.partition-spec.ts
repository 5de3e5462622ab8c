import { NATS_HOSTS, PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { cutDuring, runStormCase } from '../support/partition-storm';

jest.setTimeout(240_000);

describe('a gateway cut off from every NATS node during a send storm, then back', () => {
  let cluster: PartitionCluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it('its senders get UNAVAILABLE and retry with the same ids, its receivers catch up by sync; the other gateway goes on; nothing acked is lost or doubled', async () => {
    cluster = await startPartitionCluster('gwnats');
    const c = cluster;
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${c.ns.name}_P${p}`);
    await c.nats.streamsCurrent(streams);
    const result = await runStormCase(c, 'gw-nats', (ctx) => cutDuring(ctx, streams, 'gw1 from NATS', ['gw1'], NATS_HOSTS));
    expect(result.problems).toEqual([]);
  });
});
