import { createInbox, headers, NoRespondersError, TimeoutError, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { JetStreamApiError, PubHeaders } from '@nats-io/jetstream';
import type { AckCheck } from './ack.check';
import { TRACEPARENT } from './trace.context';

/** What appending to the log needs of a JetStream client: `JetStreamClient` is one too. */
export interface LogPublisher {
  /** `trace`: the W3C traceparent the entry carries (a header), when tracing. */
  publish(subject: string, data: string, opts: { msgID?: string; timeout?: number; trace?: string }): Promise<{ seq: number; duplicate: boolean }>;
}

/** How often waiting publishes are checked against their deadlines. */
const SWEEP_MS = 100;

interface Waiting {
  subject: string;
  /** Kept only for a stream the ack check might read back (`check` given). */
  data?: string;
  msgID?: string;
  /** The stream of the subject, when checked. */
  stream?: string;
  deadline: number;
  resolve: (ack: { seq: number; duplicate: boolean }) => void;
  reject: (err: Error) => void;
}

/**
 * JetStream publishes as plain publishes with a reply subject under one inbox of its own,
 * answered from one subscription. nats.js's `js.publish` makes each a request that builds
 * a timer, a race of two promises, an options copy and, on every success, a
 * RequestError with a stack trace (its `cancel()` rejects the settled promise with one):
 * about a tenth of a gateway's CPU at a few thousand sends a second. Deadlines here are
 * checked every SWEEP_MS by one timer.
 *
 * With an AckCheck, the acks of a suspect stream are read back before they answer
 * (nats-server's wrong acks after a leader change, ack.check.ts); a trusted stream
 * costs one Set lookup.
 */
export class JetStreamPublisher implements LogPublisher {
  private readonly inbox = createInbox();
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly check?: AckCheck,
  ) {
    nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.answer(err, msg) });
    this.sweeper = setInterval(() => this.expire(), SWEEP_MS).unref();
    void nc.closed().then(() => {
      clearInterval(this.sweeper);
      this.failAll(new Error('nats connection closed'));
    });
  }

  publish(subject: string, data: string, opts: { msgID?: string; timeout?: number; trace?: string } = {}): Promise<{ seq: number; duplicate: boolean }> {
    const token = (this.next++).toString(36);
    return new Promise((resolve, reject) => {
      const w: Waiting = { subject, deadline: performance.now() + (opts.timeout ?? 5_000), resolve, reject };
      if (this.check) {
        w.stream = this.check.streamOf(subject);
        w.data = data;
        w.msgID = opts.msgID;
      }
      this.waiting.set(token, w);
      try {
        const h = opts.msgID === undefined && opts.trace === undefined ? undefined : headers();
        if (opts.msgID !== undefined) h!.set(PubHeaders.MsgIdHdr, opts.msgID);
        if (opts.trace !== undefined) h!.set(TRACEPARENT, opts.trace);
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, ...(h && { headers: h }) });
      } catch (err) {
        this.waiting.delete(token);
        reject(err as Error);
      }
    });
  }

  private answer(err: Error | null, msg: Msg): void {
    if (err) return; // the subscription's own trouble; deadlines answer the waiting
    const token = msg.subject.slice(this.inbox.length + 1);
    const w = this.waiting.get(token);
    if (!w) return; // answered after its deadline
    this.waiting.delete(token);
    // No stream listens on the subject: the server answers with a 503 status and no body.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.suspect(w);
      return w.reject(new NoRespondersError(w.subject));
    }
    let ack: { seq?: number; duplicate?: boolean; error?: { code: number; err_code: number; description: string } };
    try {
      ack = msg.json();
    } catch (e) {
      return w.reject(e as Error);
    }
    if (ack.error) {
      // 503: JetStream unavailable, the stream without a leader for now.
      if (ack.error.code === 503) this.suspect(w);
      return w.reject(new JetStreamApiError(ack.error));
    }
    if (typeof ack.seq !== 'number') return w.reject(new Error(`invalid publish ack: ${msg.string()}`));
    const result = { seq: ack.seq, duplicate: ack.duplicate === true };
    // A duplicate's seq is read back by its caller anyway (SendDeduplicator.originalInLog),
    // which has its own answer to a seq holding another message.
    if (w.stream === undefined || result.duplicate || this.check!.trusts(w.stream)) return w.resolve(result);
    this.check!.verify(w.stream, { subject: w.subject, data: w.data!, ...(w.msgID !== undefined && { msgID: w.msgID }) }, result).then(w.resolve, w.reject);
  }

  private suspect(w: Waiting): void {
    if (w.stream !== undefined) this.check!.suspect(w.stream);
  }

  private expire(): void {
    const now = performance.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(token);
      this.suspect(w);
      w.reject(new TimeoutError());
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
