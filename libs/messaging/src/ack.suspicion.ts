/**
 * Which streams' publish acks are checked against the log, and how a wrong one is
 * found out. Pure: the reads are the caller's.
 *
 * nats-server before the fix of nats-io/nats-server#8057 ("Don't advance clseq when
 * proposal fails") counts a proposal a stepping-down leader failed to make; once that
 * node leads the stream again, every ack of its term names seq N for an entry stored at
 * N-1 (or further off), until the next leader change. So the ack is right or wrong for a
 * whole leader term: a stream is suspect from a sign of a leader change until
 * TRUST_AFTER acks in a row have been read back and found right. No time-based way out:
 * time without acks proves nothing about the term's offset. A process starts with every
 * stream suspect: it cannot know what happened before it connected.
 */
export const TRUST_AFTER = 50;

/** Seqs around a wrong ack that are read for the send's entry: N-1, N+1, ... N-PROBE_BOUND, N+PROBE_BOUND. */
export const PROBE_BOUND = 4;

export class SuspectStreams {
  /** Streams whose acks are taken as they come: the common path's one lookup. */
  private readonly trusted = new Set<string>();
  /** Per suspect stream: acks found right in a row since the last sign of trouble. */
  private readonly streak = new Map<string, number>();

  constructor(private readonly trustAfter = TRUST_AFTER) {}

  trusts(stream: string): boolean {
    return this.trusted.has(stream);
  }

  /** A sign the stream's leader changed or is changing: an advisory, a publish that failed or took too long. */
  suspect(stream: string): void {
    this.trusted.delete(stream);
    this.streak.set(stream, 0);
  }

  /** Signs may have been missed for every stream (the connection to NATS came back). */
  suspectAll(): void {
    this.trusted.clear();
    this.streak.clear();
  }

  /** An ack read back and found to name the published entry. */
  verified(stream: string): void {
    if (this.trusted.has(stream)) return;
    const n = (this.streak.get(stream) ?? 0) + 1;
    if (n < this.trustAfter) {
      this.streak.set(stream, n);
      return;
    }
    this.streak.delete(stream);
    this.trusted.add(stream);
  }

  /** An ack that named another entry (or none): the term's offset is wrong, start over. */
  mismatched(stream: string): void {
    this.suspect(stream);
  }
}

/** The seqs read for a send whose ack named `seq` wrongly, nearest first, below before above. */
export function probeOrder(seq: number, bound = PROBE_BOUND): number[] {
  const order: number[] = [];
  for (let d = 1; d <= bound; d++) {
    if (seq - d >= 1) order.push(seq - d);
    order.push(seq + d);
  }
  return order;
}

/**
 * What an ack turned out to be, from reads of the log: `holds(seq)` says whether the entry
 * at seq is the published one (undefined: it could not be read).
 * - `right`: the entry at the acked seq is the send's.
 * - `moved`: it is at `seq`, the nearest probe that holds it.
 * - `unknown`: not found within the bound, or a read failed before it was found: the send
 *   must not be answered ok (a retry with the same ids is answered by the dedupe path).
 */
export type AckOutcome = { kind: 'right'; seq: number } | { kind: 'moved'; acked: number; seq: number } | { kind: 'unknown'; acked: number };

export function judgeAck(acked: number, atAcked: boolean | undefined, probes: Array<{ seq: number; holds: boolean | undefined }>): AckOutcome {
  if (atAcked === true) return { kind: 'right', seq: acked };
  if (atAcked === undefined) return { kind: 'unknown', acked };
  for (const p of probes) {
    if (p.holds === true) return { kind: 'moved', acked, seq: p.seq };
    // A nearer seq that could not be read might be the one: do not pick a farther one over it.
    if (p.holds === undefined) return { kind: 'unknown', acked };
  }
  return { kind: 'unknown', acked };
}
