import type { RouteChange } from './connection.registry';
import { RouteTable, type RouteSource } from './route.table';

/** A registry whose lookups answer only when the test says so. */
function fakeRegistry() {
  const feed: RouteChange[] = [];
  const leases = new Map<string, Array<[string, number]>>();
  const pending: Array<() => void> = [];
  const source: RouteSource = {
    routeFeedEnd: async () => (feed.length ? { id: feed[feed.length - 1]!.id, n: feed[feed.length - 1]!.n } : { id: '0-0', n: 0 }),
    routeChanges: async (afterId) => ({ changes: feed.filter((c) => Number(c.id) > Number(afterId.split('-')[0])), counter: feed.length }),
    currentEpochs: async (nodes) => new Map(nodes.map((n) => [n, 1])),
    leaseNodes: (users) => {
      // The answer is what Redis held when the lookup was made, delivered later.
      const answer = new Map(users.map((u) => [u, [...(leases.get(u) ?? [])]]));
      return new Promise((resolve) => pending.push(() => resolve(answer)));
    },
  };
  return {
    source,
    set(user: string, nodes: string[]) {
      leases.set(user, nodes.map((n) => [n, 1]));
      feed.push({ id: String(feed.length + 1), n: feed.length + 1, users: [user] });
    },
    answerLookups() {
      for (const answer of pending.splice(0)) answer();
    },
  };
}

describe('RouteTable', () => {
  it('does not keep a lookup answer older than an invalidation that landed while it was on its way', async () => {
    const registry = fakeRegistry();
    const table = new RouteTable(registry.source);
    await table.refresh();
    registry.set('ann', ['n1']);
    const first = table.online(['ann']);
    // Ann disconnects after the lookup read Redis, and the feed says so before the answer arrives.
    registry.set('ann', []);
    await table.refresh();
    registry.answerLookups();
    expect(await first).toEqual(new Set(['ann']));
    const second = table.online(['ann']);
    registry.answerLookups();
    expect(await second).toEqual(new Set());
  });

  it('shares feed reads between callers, and one that calls during a read gets a read that starts after its call', async () => {
    const registry = fakeRegistry();
    let reads = 0;
    let release: () => void = () => undefined;
    const gated: RouteSource = {
      ...registry.source,
      routeChanges: async (id, count) => {
        reads++;
        await new Promise<void>((r) => (release = r));
        return registry.source.routeChanges(id, count);
      },
    };
    const table = new RouteTable(gated);
    await table.refresh();
    // Two callers before a read starts share it.
    const a = table.refresh();
    const b = table.refresh();
    await until(() => reads === 1);
    // Bob connects while that read is under way: a caller now needs a read of its own...
    registry.set('bob', ['n2']);
    const c = table.refresh();
    const d = table.refresh();
    release();
    await Promise.all([a, b]);
    await until(() => reads === 2);
    release();
    await Promise.all([c, d]);
    // ...which the two share, and which saw bob's entry.
    expect(reads).toBe(2);
    const online = table.online(['bob']);
    registry.answerLookups();
    expect(await online).toEqual(new Set(['bob']));
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error('condition not reached');
}
