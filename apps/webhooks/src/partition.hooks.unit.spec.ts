import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { ChatEvent } from '@chat/contracts';
import type { HookedEvent } from '@chat/storage';
import type { Hook } from './hook';
import { PartitionHooks, type Entry, type PartitionHooksDeps } from './partition.hooks';
import type { CallOutcome } from './webhook.client';

/* The sender of one partition at the service tier: a fake consumer, a fake read model and a fake receiver. */

const at = '2026-01-01T12:00:00.000Z';

function fakeMessage(seq: number, conversationId: string) {
  const settled: string[] = [];
  const m = {
    seq,
    subject: `ns.p0.conv.${conversationId}`,
    info: { deliveryCount: 1 },
    json: () => ({ type: 'MessageSent', v: 1, conversationId, senderId: 'ann', clientMsgId: `m${seq}`, body: `b${seq}`, at }),
    ack: () => void settled.push('ack'),
    nak: () => void settled.push('nak'),
    working: () => undefined,
  };
  return { msg: m as unknown as JsMsg, settled };
}

/** A consumer whose subscriptions the test feeds and can end (as a deleted consumer does). */
function fakeConsumer() {
  const subscriptions: Array<{ deliver: (m: JsMsg) => void; end: () => void; closedByUs: boolean }> = [];
  const consumer = {
    consume: async (opts: { callback: (m: JsMsg) => void }) => {
      let end!: () => void;
      const closed = new Promise<void>((r) => (end = r));
      const sub = { deliver: opts.callback, end, closedByUs: false };
      subscriptions.push(sub);
      return {
        closed: () => closed,
        close: async () => {
          sub.closedByUs = true;
          end();
        },
      };
    },
  };
  return { consumer: consumer as unknown as Consumer, subscriptions, deliver: (m: JsMsg) => subscriptions[subscriptions.length - 1]!.deliver(m) };
}

const message = (conversationId: string, seq: number): ChatEvent => ({ type: 'message', conversationId, seq, senderId: 'ann', clientMsgId: `m${seq}`, body: `b${seq}`, sentAt: at });

/** A receiver answering by a rule the test changes; calls can be held open. */
function fakeReceiver() {
  const calls: Hook[] = [];
  let answer: (h: Hook, n: number) => CallOutcome | Promise<CallOutcome> = () => ({ ok: true, status: 200 });
  const call = async (h: Hook) => {
    calls.push(h);
    return answer(h, calls.filter((c) => c.id === h.id).length);
  };
  return { calls, call, answerWith: (a: typeof answer) => (answer = a) };
}

const until = async (what: () => boolean, label = 'condition') => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!what()) throw new Error(`never: ${label}`);
};

function setUp(overrides: Partial<PartitionHooksDeps> = {}) {
  const c = fakeConsumer();
  const r = fakeReceiver();
  const prepared: boolean[] = [];
  const resolved: Entry[][] = [];
  const status: string[] = [];
  const verdicts = new Map<number, HookedEvent>();
  const deps: PartitionHooksDeps = {
    partition: 0,
    prepare: async (first) => void prepared.push(first),
    open: async () => c.consumer,
    conversationOf: (subject) => subject.slice(subject.lastIndexOf('.') + 1),
    projected: async () => true,
    resolve: async (_p, entries) => {
      resolved.push(entries);
      return new Map(entries.map((e) => [e.seq, verdicts.get(e.seq) ?? { kind: 'event', event: message(e.conversationId, e.seq) }]));
    },
    call: r.call,
    status: {
      delivered: (_p, seq) => void status.push(`delivered ${seq}`),
      failed: (_p, _c, seq, err, attempts) => void status.push(`failed ${seq} ${err} #${attempts}`),
      dropped: (_p, seq) => void status.push(`dropped ${seq}`),
    },
    count: () => undefined,
    concurrency: 4,
    batchSize: 50,
    ackWaitMs: 30_000,
    retryDelay: () => 1,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    ...overrides,
  };
  return { c, r, prepared, resolved, status, verdicts, feed: new PartitionHooks(deps) };
}

describe('PartitionHooks', () => {
  it('calls once per event in seq order per conversation, and acks each only after its 2xx', async () => {
    const { c, r, feed } = setUp();
    await feed.start();
    let held: ((o: CallOutcome) => void) | undefined;
    r.answerWith((h) => (h.seq === 1 ? new Promise<CallOutcome>((resolve) => (held = resolve)) : { ok: true, status: 204 }));
    const msgs = [[1, 'g_a'], [2, 'g_b'], [3, 'g_a'], [4, 'g_b'], [5, 'g_a']].map(([seq, id]) => fakeMessage(seq as number, id as string));
    for (const m of msgs) c.deliver(m.msg);
    await until(() => r.calls.length === 3, 'g_b delivered while g_a waits');
    // g_a's first call is open: its next events wait, g_b's go on.
    expect(r.calls.map((h) => h.id)).toEqual(['g_a:1', 'g_b:2', 'g_b:4']);
    expect(msgs.map((m) => m.settled)).toEqual([[], ['ack'], [], ['ack'], []]);
    held!({ ok: true, status: 200 });
    await until(() => msgs.every((m) => m.settled.length > 0), 'every event acked');
    expect(r.calls.filter((h) => h.conversationId === 'g_a').map((h) => h.seq)).toEqual([1, 3, 5]);
    expect(r.calls[0]).toEqual({ id: 'g_a:1', type: 'message', conversationId: 'g_a', seq: 1, event: message('g_a', 1) });
    expect(msgs.map((m) => m.settled)).toEqual([['ack'], ['ack'], ['ack'], ['ack'], ['ack']]);
    await feed.stop();
  });

  it('tries an event again until a 2xx, 4xx included, and sends nothing after it in its conversation meanwhile', async () => {
    const { c, r, status, feed } = setUp();
    await feed.start();
    r.answerWith((h, n) => (h.seq === 1 && n < 3 ? { ok: false, error: n === 1 ? '503' : '400' } : { ok: true, status: 200 }));
    const first = fakeMessage(1, 'g_a');
    const second = fakeMessage(2, 'g_a');
    c.deliver(first.msg);
    c.deliver(second.msg);
    await until(() => second.settled.length > 0, 'both acked');
    expect(r.calls.map((h) => h.id)).toEqual(['g_a:1', 'g_a:1', 'g_a:1', 'g_a:2']);
    expect(status).toEqual(['failed 1 503 #1', 'failed 1 400 #2', 'delivered 1', 'delivered 2']);
    expect([first.settled, second.settled]).toEqual([['ack'], ['ack']]);
    await feed.stop();
  });

  it('sends nothing for an event the projection refused (or no longer keeps), and acks it', async () => {
    const { c, r, verdicts, feed } = setUp();
    verdicts.set(2, { kind: 'refused', code: 'FORBIDDEN' });
    verdicts.set(3, { kind: 'gone' });
    await feed.start();
    const msgs = [1, 2, 3, 4].map((seq) => fakeMessage(seq, 'g_a'));
    for (const m of msgs) c.deliver(m.msg);
    await until(() => msgs.every((m) => m.settled.length > 0));
    expect(r.calls.map((h) => h.seq)).toEqual([1, 4]);
    await feed.stop();
  });

  it('waits for the projection to commit a batch before reading its events', async () => {
    let committed = 0;
    const { c, r, resolved, feed } = setUp({ projected: async (_p, seq) => seq <= committed });
    await feed.start();
    const m = fakeMessage(7, 'g_a');
    c.deliver(m.msg);
    await new Promise((res) => setTimeout(res, 20));
    expect([resolved.length, r.calls.length]).toEqual([0, 0]);
    committed = 7;
    await until(() => m.settled.length > 0);
    expect(resolved).toEqual([[{ seq: 7, conversationId: 'g_a', message: true }]]);
    await feed.stop();
  });

  it('takes a redelivery of an event it holds as that event, not a second one', async () => {
    const { c, r, feed } = setUp();
    let held: ((o: CallOutcome) => void) | undefined;
    r.answerWith(() => new Promise<CallOutcome>((resolve) => (held = resolve)));
    await feed.start();
    const m = fakeMessage(1, 'g_a');
    c.deliver(m.msg);
    await until(() => r.calls.length === 1);
    c.deliver(fakeMessage(1, 'g_a').msg);
    held!({ ok: true, status: 200 });
    await until(() => m.settled.length > 0);
    expect(r.calls).toHaveLength(1);
    await feed.stop();
  });

  it('when its consumer goes away (a replay moved it): drops what it held unacked, and reads the new one from its start', async () => {
    const { c, r, prepared, status, feed } = setUp();
    let held: ((o: CallOutcome) => void) | undefined;
    r.answerWith((h) => (h.seq === 10 ? new Promise<CallOutcome>((resolve) => (held = resolve)) : { ok: true, status: 200 }));
    await feed.start();
    const old = [10, 11].map((seq) => fakeMessage(seq, 'g_a'));
    for (const m of old) c.deliver(m.msg);
    await until(() => r.calls.length === 1);
    c.subscriptions[0]!.end();
    // The call in flight ends before the new consumer is read: no older event lands after a newer one.
    await new Promise((res) => setTimeout(res, 20));
    expect(c.subscriptions).toHaveLength(1);
    held!({ ok: true, status: 200 });
    await until(() => c.subscriptions.length === 2, 'subscribed again');
    expect(prepared).toEqual([true, false]);
    expect(old.map((m) => m.settled)).toEqual([[], []]);
    expect(status).toContain('dropped 11');
    const again = [5, 6].map((seq) => fakeMessage(seq, 'g_a'));
    for (const m of again) c.deliver(m.msg);
    await until(() => again.every((m) => m.settled.length > 0));
    expect(r.calls.map((h) => h.seq)).toEqual([10, 5, 6]);
    await feed.stop();
  });

  it('on stop, lets the call in flight end and acks it when delivered, and starts no other', async () => {
    const { c, r, feed } = setUp({ concurrency: 1 });
    let held: ((o: CallOutcome) => void) | undefined;
    r.answerWith(() => new Promise<CallOutcome>((resolve) => (held = resolve)));
    await feed.start();
    const msgs = [1, 2].map((seq) => fakeMessage(seq, `g_${seq}`));
    for (const m of msgs) c.deliver(m.msg);
    await until(() => r.calls.length === 1);
    let stopped = false;
    const stopping = feed.stop().then(() => (stopped = true));
    await new Promise((res) => setTimeout(res, 10));
    expect(stopped).toBe(false);
    held!({ ok: true, status: 200 });
    await stopping;
    expect(r.calls).toHaveLength(1);
    expect(msgs.map((m) => m.settled)).toEqual([['ack'], []]);
    expect(c.subscriptions[0]!.closedByUs).toBe(true);
  });
});
