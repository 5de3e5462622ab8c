import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { PubHeaders } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { locateAck, SuspectStreams, type AckOutcome } from './ack.suspicion';
import { JETSTREAM_SUBJECTS, type Names } from './names';

/** Leader stepdowns asked of one stream at most this often: a storm of wrong acks asks once. */
const STEPDOWN_EVERY_MS = 10_000;

/** What the check needs of a logger (pino's warn). */
export interface AckCheckLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** What was published, to know it again in the log. */
export interface Published {
  subject: string;
  data: string;
  msgID?: string;
}

/** Counts of checked acks, for tests and the logs. */
export interface AckCheckStats {
  /** Acks read back and found right. */
  verified: number;
  /** Acks that named another entry and were answered with the send's real seq. */
  corrected: number;
  /** Acks whose entry was not found near the acked seq (or could not be read): answered as failures. */
  unresolved: number;
  /** Leader stepdowns asked for. */
  stepdowns: number;
  /** Leader-elected advisories received (of any stream). */
  advisories: number;
}

/** The send's entry was not found at or near its acked seq: whether it is in the log is unknown. */
export class UnverifiedAckError extends Error {
  constructor(stream: string, seq: number) {
    super(`publish ack of ${stream} named seq ${seq}, which does not hold the entry, nor any seq near it; outcome unknown, retry with the same ids`);
    this.name = 'UnverifiedAckError';
  }
}

/**
 * Guards "an acked send is in the log exactly once at its acked seq" against
 * nats-server's wrong publish acks after a leader change (see ack.suspicion.ts): the
 * acks of a suspect stream are read back before they answer a send; a wrong one is
 * answered with the entry's real seq and the stream's leader is asked to step down (the
 * next leader starts its count right). A trusted stream costs one Set lookup a publish.
 */
export class AckCheck {
  readonly stats: AckCheckStats = { verified: 0, corrected: 0, unresolved: 0, stepdowns: 0, advisories: 0 };
  private readonly streams = new SuspectStreams();
  private readonly lastStepdown = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly names: Names,
    private readonly logger: AckCheckLogger,
    /** Told each checked ack's result (a metric). */
    private readonly onChecked: (result: 'verified' | 'corrected' | 'unresolved') => void = () => undefined,
  ) {
    nc.subscribe(JETSTREAM_SUBJECTS.leaderElectedAdvisories, {
      callback: (err, msg) => {
        if (err) return;
        const stream = msg.subject.slice(JETSTREAM_SUBJECTS.leaderElectedPrefix.length);
        // Other namespaces' streams share the server: remembering them would only grow the map.
        if (!names.ownsStream(stream)) return;
        this.stats.advisories++;
        this.streams.suspect(stream);
      },
    });
    // Advisories sent while this connection was away are lost.
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') this.streams.suspectAll();
    })().catch(() => undefined);
  }

  /** The stream of a subject whose acks are checked when suspect (undefined: not a log subject). */
  streamOf(subject: string): string | undefined {
    return this.names.streamOfSubject(subject);
  }

  trusts(stream: string): boolean {
    return this.streams.trusts(stream);
  }

  /** A publish to the stream failed in a way a leader change does (timeout, no responders, unavailable) or was slow. */
  suspect(stream: string): void {
    this.streams.suspect(stream);
  }

  /** The seq the send's entry is at, from the ack's: throws UnverifiedAckError when it cannot tell. */
  async verify(stream: string, sent: Published, ack: { seq: number; duplicate: boolean }): Promise<{ seq: number; duplicate: boolean }> {
    const outcome = await this.locate(stream, sent, ack.seq);
    if (outcome.kind === 'right') {
      this.stats.verified++;
      this.onChecked('verified');
      this.streams.verified(stream);
      return ack;
    }
    // An ack that could not be read back is unchecked, not wrong: no stepdown for it (the
    // reads fail in the trouble that made the stream suspect), and the run of right ones
    // starts over all the same.
    this.streams.mismatched(stream);
    if (outcome.kind === 'moved' || outcome.misnamed) this.stepdown(stream);
    if (outcome.kind === 'moved') {
      this.stats.corrected++;
      this.onChecked('corrected');
      this.logger.warn({ stream, ackedSeq: outcome.acked, storedSeq: outcome.seq, msgId: sent.msgID }, 'publish ack named the wrong seq (nats-server clseq bug); answered with the stored seq');
      return { seq: outcome.seq, duplicate: ack.duplicate };
    }
    this.stats.unresolved++;
    this.onChecked('unresolved');
    this.logger.warn({ stream, ackedSeq: outcome.acked, msgId: sent.msgID, why: outcome.why }, 'publish ack named a seq that does not hold the entry, nor does any seq near it; answered as unavailable');
    throw new UnverifiedAckError(stream, ack.seq);
  }

  private async locate(stream: string, sent: Published, seq: number): Promise<AckOutcome> {
    let atAcked: boolean | undefined;
    try {
      atAcked = this.isSend(await this.jsm.streams.getMessage(stream, { seq }), sent);
    } catch {
      atAcked = undefined;
    }
    return locateAck(seq, atAcked, async (from) => {
      // STREAM.MSG.GET's next_by_subj: the first entry of the subject at or after `from`.
      const m = await this.jsm.streams.getMessage(stream, { seq: from, next_by_subj: sent.subject } as unknown as { seq: number });
      return m && { seq: m.seq, isSend: this.isSend(m, sent) };
    });
  }

  /** Whether a stored entry is the published one. */
  private isSend(stored: StoredMsg | null, sent: Published): boolean {
    if (!stored || stored.subject !== sent.subject) return false;
    // The msg id is the send's identity (a duplicate's entry holds the original's bytes);
    // without one, the bytes are.
    return sent.msgID !== undefined ? stored.header?.get(PubHeaders.MsgIdHdr) === sent.msgID : stored.string() === sent.data;
  }

  private stepdown(stream: string): void {
    const now = performance.now();
    if (now - (this.lastStepdown.get(stream) ?? Number.NEGATIVE_INFINITY) < STEPDOWN_EVERY_MS) return;
    this.lastStepdown.set(stream, now);
    this.stats.stepdowns++;
    this.nc.request(JETSTREAM_SUBJECTS.stepdown(stream), '', { timeout: 5_000 }).catch((err: Error) => {
      this.logger.warn({ stream, err: err.message }, 'asking the stream leader to step down failed');
    });
  }
}
