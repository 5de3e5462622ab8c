import { skewedClockEnv } from '../support/faketime';
import { PARTITIONS, startPartitionCluster, type PartitionCluster } from '../support/partition-cluster';
import { runStormCase } from '../support/partition-storm';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

/** Longer than a presence lease (25 s): leases written by the skewed gateway are renewed and swept meanwhile. */
const SKEWED_RUN_MS = 35_000;

const streamsOf = (c: PartitionCluster) => Array.from({ length: PARTITIONS }, (_, p) => `${c.ns.name}_P${p}`);

describe('clocks: a gateway 10 minutes ahead and a projector 10 minutes behind (libfaketime on their hosts)', () => {
  let cluster: PartitionCluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it('presence does not flap (the lease clock is Redis\'s), and nothing acked is lost, doubled or out of order', async () => {
    cluster = await startPartitionCluster('skew', { appEnv: { gw2: skewedClockEnv('+10m'), proj2: skewedClockEnv('-10m') } });
    const c = cluster;
    await c.nats.streamsCurrent(streamsOf(c));
    const ahead = Math.round((Date.parse((await fetch(`${c.gateways[1]!.app.url}/healthz`)).headers.get('date')!) - Date.now()) / 1000);
    expect(ahead).toBeGreaterThanOrEqual(590);
    const result = await runStormCase(c, 'clock-skew', async ({ history, moreAcks }) => {
      const at = Date.now();
      history.note(`gw2 is ${ahead} s ahead, proj2 10 min behind`);
      await moreAcks(50, 'with skewed clocks');
      await waitFor(`${SKEWED_RUN_MS} ms of sends through skewed clocks`, () => Date.now() - at >= SKEWED_RUN_MS, SKEWED_RUN_MS + 30_000, 100);
    });
    expect(result.flaps).toBe(0);
    expect(result.problems).toEqual([]);
  });
});
