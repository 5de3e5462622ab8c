/**
 * The work one connection may have under way (docs/reliability.md, "Work per connection"):
 * a cheap request for a large answer costs the gateway memory and its database time, so
 * the number of queries in flight and the bytes waiting to be written are bounded per
 * connection, beside the event budgets of rate-limiter.ts.
 */
export interface WorkSettings {
  /** Queries under way at once on one connection. */
  maxQueries: number;
  /** Bytes waiting to be written over which new queries are refused. */
  softBytes: number;
  /** Bytes waiting to be written over which, still so `graceMs` later, the transport is closed. */
  hardBytes: number;
  graceMs: number;
}

/** What a connection's own work looks like right now (kept in socket.data). */
export class ConnectionWork {
  queries = 0;
  /** Set while the connection is over the hard cap and a re-check is due. */
  overHard?: NodeJS.Timeout;

  constructor(readonly settings: WorkSettings) {}
}

/** The retry hint when the connection's answers have not been read yet: they take a while to drain. */
export const BUFFER_RETRY_MS = 500;
const MIN_RETRY_MS = 25;
const MAX_RETRY_MS = 5_000;

/**
 * Admits queries per connection. `admit` answers 0 (admitted: call `done` when the work
 * ends, whatever its outcome) or the ms after which a retry is likely to be admitted.
 */
export class WorkLimits {
  /** Recent time a query takes on this gateway: roughly when a slot frees up. */
  private typicalMs = 50;

  constructor(readonly settings: WorkSettings) {}

  forConnection(): ConnectionWork {
    return new ConnectionWork(this.settings);
  }

  admit(work: ConnectionWork, waitingBytes: number): number {
    // Answers already waiting for this client: more of them would only wait longer, in our memory.
    if (waitingBytes > this.settings.softBytes) return BUFFER_RETRY_MS;
    if (work.queries >= this.settings.maxQueries) return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, Math.round(this.typicalMs)));
    work.queries++;
    return 0;
  }

  done(work: ConnectionWork, elapsedMs: number): void {
    work.queries--;
    this.typicalMs += (elapsedMs - this.typicalMs) / 8;
  }
}
