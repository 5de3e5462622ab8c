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

/**
 * How far from a wrong ack the send's entry is looked for. The offset is the number of
 * proposals the stepping-down leader failed (one a publish in flight then), so during a
 * storm it can be tens, not one.
 */
export const SCAN_BOUND = 64;
/** Reads a scan may take (each returns the next entry of the send's conversation subject). */
export const SCAN_READS = 16;

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

/**
 * What an ack turned out to be, from reads of the log.
 * - `right`: the entry at the acked seq is the send's.
 * - `moved`: the send's entry is at `seq`.
 * - `unknown`: not found within the bound, or a read failed before it was found: the send
 *   must not be answered ok (a retry with the same ids is answered by the dedupe path).
 */
export type AckOutcome =
  | { kind: 'right'; seq: number }
  | { kind: 'moved'; acked: number; seq: number }
  /** `misnamed`: the acked seq was read and holds another entry (or none), so the ack is wrong, not just unchecked. */
  | { kind: 'unknown'; acked: number; why: string; misnamed: boolean };

/** One read of the scan: the first entry of the send's subject at or after a seq (null: none). */
export type ReadNext = (from: number) => Promise<{ seq: number; isSend: boolean } | null>;

/**
 * Where the send acked at `acked` is. `atAcked`: whether the entry at the acked seq is the
 * send's (undefined: unreadable). Otherwise the send's conversation subject is walked
 * from acked - bound to acked + bound, one read an entry of that subject (few: one
 * conversation's share of the stream), at most `maxReads`. A read that fails makes the
 * outcome unknown (the `readNext` promise rejects).
 */
export async function locateAck(acked: number, atAcked: boolean | undefined, readNext: ReadNext, bound = SCAN_BOUND, maxReads = SCAN_READS): Promise<AckOutcome> {
  if (atAcked === true) return { kind: 'right', seq: acked };
  if (atAcked === undefined) return { kind: 'unknown', acked, why: 'the acked seq could not be read', misnamed: false };
  let from = Math.max(1, acked - bound);
  for (let reads = 0; reads < maxReads; reads++) {
    let entry;
    try {
      entry = await readNext(from);
    } catch (err) {
      return { kind: 'unknown', acked, why: `read failed: ${(err as Error).message}`, misnamed: true };
    }
    if (!entry || entry.seq > acked + bound) return { kind: 'unknown', acked, why: `not within ${bound} seqs`, misnamed: true };
    if (entry.isSend) return { kind: 'moved', acked, seq: entry.seq };
    from = entry.seq + 1;
  }
  return { kind: 'unknown', acked, why: `not within ${maxReads} entries of its subject`, misnamed: true };
}
