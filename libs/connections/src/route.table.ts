import { byNode, type ConnectionRegistry } from './connection.registry';

/** Entries read from the route feed per round trip. */
const FEED_PAGE = 1_000;

type Leases = ReadonlyArray<readonly [node: string, epoch: number]>;

/** What the table reads of the registry. */
export type RouteSource = Pick<ConnectionRegistry, 'leaseNodes' | 'currentEpochs' | 'routeChanges' | 'routeFeedEnd'>;

/**
 * Where users' connections are, in memory: what the projector routes live delivery by and
 * the notifier tells online from offline by, without a Redis lookup per recipient. Redis
 * stays the truth. A user is read from the registry the first time it is asked for, then
 * kept until the registry's route feed says its leases changed (connect, disconnect,
 * sweep, re-created after a flush), when it is read again on the next ask.
 *
 * Call `refresh()` before routing what was committed before the call: a client connects
 * (its lease and feed entry written), then syncs, then anything committed after its sync
 * must reach it live; a refresh that starts after the commit sees that feed entry.
 */
export class RouteTable {
  private readonly leases = new Map<string, Leases>();
  private position?: { id: string; n: number };
  /** The feed read under way, and the one that will start after it (shared by callers meanwhile). */
  private running?: Promise<void>;
  private queued?: Promise<void>;
  /** Users each running lookup may still store: an invalidation that lands meanwhile wins. */
  private readonly lookups = new Set<Set<string>>();

  constructor(
    private readonly registry: RouteSource,
    private readonly capacity = 500_000,
  ) {}

  get size(): number {
    return this.leases.size;
  }

  /**
   * Applies every change the feed holds at the time of the call. Concurrent callers share
   * round trips: one that arrives while a read is under way waits for the read after it.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.running ?? Promise.resolve();
    const read: Promise<void> = before
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.running = read;
        return this.readFeed();
      })
      .finally(() => {
        if (this.running === read) this.running = undefined;
      });
    this.queued = read;
    return read;
  }

  /** node -> the given users it holds a connection of, in the node's current epoch. */
  async nodesOf(userIds: Iterable<string>): Promise<Map<string, string[]>> {
    const leases = await this.leasesOf(userIds);
    const nodes = new Set<string>();
    for (const pairs of leases.values()) for (const [node] of pairs) nodes.add(node);
    return byNode(leases, nodes.size ? await this.registry.currentEpochs([...nodes]) : new Map());
  }

  /** The given users that hold a connection somewhere. */
  async online(userIds: Iterable<string>): Promise<Set<string>> {
    const online = new Set<string>();
    for (const users of (await this.nodesOf(userIds)).values()) for (const u of users) online.add(u);
    return online;
  }

  private async leasesOf(userIds: Iterable<string>): Promise<Map<string, Leases>> {
    const found = new Map<string, Leases>();
    const missing: string[] = [];
    for (const userId of userIds) {
      if (found.has(userId)) continue;
      const known = this.leases.get(userId);
      if (known) found.set(userId, known);
      else missing.push(userId);
    }
    if (missing.length === 0) return found;
    const mayStore = new Set(missing);
    this.lookups.add(mayStore);
    try {
      for (const [userId, pairs] of await this.registry.leaseNodes(missing)) {
        found.set(userId, pairs);
        if (mayStore.has(userId)) this.remember(userId, pairs);
      }
    } finally {
      this.lookups.delete(mayStore);
    }
    return found;
  }

  private remember(userId: string, pairs: Leases): void {
    this.leases.delete(userId);
    this.leases.set(userId, pairs);
    // Map order is insertion order: the first entry is the one read longest ago.
    if (this.leases.size > this.capacity) this.leases.delete(this.leases.keys().next().value!);
  }

  private invalidate(userId: string): void {
    this.leases.delete(userId);
    for (const mayStore of this.lookups) mayStore.delete(userId);
  }

  /** Everything known may be stale: the feed has a gap or Redis lost its data. */
  private forgetAll(): void {
    this.leases.clear();
    for (const mayStore of this.lookups) mayStore.clear();
  }

  private async readFeed(): Promise<void> {
    if (!this.position) {
      // Nothing is known yet, so nothing can be stale: start at the feed's end.
      this.position = await this.registry.routeFeedEnd();
      return;
    }
    for (;;) {
      const { changes, counter } = await this.registry.routeChanges(this.position.id, FEED_PAGE);
      if (counter < this.position.n) {
        // The counter went back: Redis lost its data (flush, restart without persistence).
        this.forgetAll();
        this.position = await this.registry.routeFeedEnd();
        return;
      }
      for (const change of changes) {
        // A gap: entries were trimmed before this reader saw them.
        if (change.n !== this.position.n + 1) this.forgetAll();
        for (const userId of change.users) this.invalidate(userId);
        this.position = { id: change.id, n: change.n };
      }
      if (changes.length < FEED_PAGE) return;
    }
  }
}
