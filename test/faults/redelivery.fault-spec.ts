import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Ack, AckResults, ChatEvent } from '@chat/contracts';
import type { TestClient } from '../support/clients';
import { caughtUp, projectorConsumers, query } from '../support/inspect';
import { SendLedger, cursorsOf, expectNothingLost } from '../support/ledger';
import { UNLIMITED, type TestNamespace } from '../support/namespace';
import { holdTableLock, someoneWaitsOn } from '../support/pg-lock';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const ACK_WAIT = '1s';

/** Redeliveries JetStream made to the timeline projection's consumers, all partitions together. */
async function redeliveries(ns: TestNamespace): Promise<number> {
  const nc = await connect({ servers: ns.env.CHAT_NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    let total = 0;
    for (let p = 0; p < Number(ns.env.CHAT_PARTITIONS); p++) {
      for (const consumer of await projectorConsumers(jsm, ns, 'timeline', p)) total += consumer.num_redelivered;
    }
    return total;
  } finally {
    await nc.close();
  }
}

/** Live messages of one conversation, checked to come once each, in seq order. */
function liveSeqs(client: TestClient, conversationId: string): number[] {
  return client.received.filter((e): e is Extract<ChatEvent, { type: 'message' }> => e.type === 'message' && e.conversationId === conversationId).map((m) => m.seq);
}

const ascending = (seqs: number[]) => [...seqs].sort((a, b) => a - b);

/**
 * The projector's consumers: ack wait CHAT_PROJECTOR_ACK_WAIT (1 s here, 30 s by default),
 * max_deliver -1 (never dead-lettered), AckPolicy.All, no server-side backoff; the
 * projector never naks: a batch that fails is kept and retried in place with a growing
 * pause (working() on each retry), and anything redelivered at or below the checkpoint is
 * dropped by seq. These tests make the handler slower than the ack wait and make its
 * writes fail, from outside, and check that every event still applies once, in order.
 */
describe('redelivery to the projector', () => {
  const sys = useSystem('redeliver', { ...UNLIMITED, CHAT_PROJECTOR_ACK_WAIT: ACK_WAIT, CHAT_PROJECTOR_BATCH: '20' });

  /** Three conversations of `sender` with `reader`, the reader online, and the cursors before the faults. */
  async function setUp(sender: string, reader: string) {
    const a = await sys().connect(sender);
    const b = await sys().connect(reader);
    const conversations: string[] = [];
    conversations.push((await a.ok('conversation:create', { type: 'direct', members: [reader] })).conversation.id);
    for (const title of ['g1', 'g2']) {
      conversations.push((await a.ok('conversation:create', { type: 'group', members: [reader, `${reader}-2`], title })).conversation.id);
    }
    const members = Object.fromEntries(conversations.map((id, i) => [id, i === 0 ? [sender, reader] : [sender, reader, `${reader}-2`]]));
    const cursors = await cursorsOf(sys().app.url, [sender, reader, `${reader}-2`]);
    return { a, b, conversations, members, cursors };
  }

  /** Each acked message applied once: live delivery, the dense counters and unread counts, no rejections. */
  async function expectAppliedOnce(reader: TestClient, conversations: string[], ledger: SendLedger) {
    for (const id of conversations) {
      const acked = ascending(ledger.all().filter((s) => s.conversationId === id).map((s) => s.seq));
      await waitFor(`${reader.userId} to get ${acked.length} live messages of ${id}`, () => liveSeqs(reader, id).length >= acked.length);
      expect(liveSeqs(reader, id)).toEqual(acked);
      const [row] = await query<{ message_count: string; last_seq: string }>(sys().ns, 'SELECT message_count, last_seq FROM conversations WHERE id = $1', [id]);
      expect({ id, count: Number(row!.message_count), lastSeq: Number(row!.last_seq) }).toEqual({ id, count: acked.length, lastSeq: acked[acked.length - 1] });
    }
    const { conversations: list } = await reader.ok('conversation:list', { limit: 50 });
    for (const id of conversations) {
      expect({ id, unread: list.find((c) => c.id === id)?.unread }).toEqual({ id, unread: ledger.all().filter((s) => s.conversationId === id).length });
    }
    expect(await query(sys().ns, 'SELECT partition, seq, code FROM rejected_events')).toEqual([]);
  }

  it('applies once, in order, a backlog whose first batch commits only after JetStream redelivered it', async () => {
    const { a, b, conversations, members, cursors } = await setUp('ron', 'sue');
    const ledger = new SendLedger();
    const before = await redeliveries(sys().ns);

    // The projector's commit waits on a lock held longer than the ack wait.
    const lock = await holdTableLock(sys().ns, 'checkpoints');
    let sends: Array<Promise<Ack<AckResults['message:send']>>> = [];
    try {
      sends = Array.from({ length: 150 }, (_, i) => ledger.send(a, conversations[i % 3]!, `slow-${i}`));
      for (const ack of await Promise.all(sends)) expect(ack.ok).toBe(true);
      await waitFor('the projector to wait on the lock', () => someoneWaitsOn(sys().ns, 'checkpoints'));
      await waitFor('JetStream to redeliver the batch being committed', async () => (await redeliveries(sys().ns)) > before, 20_000, 200);
    } finally {
      await lock.release();
      await Promise.allSettled(sends);
    }

    await caughtUp(sys().ns);
    await expectAppliedOnce(b, conversations, ledger);
    await expectNothingLost(sys().ns, ledger, { url: sys().app.url, members, cursors });
  });

  it('applies once, in order, batches whose writes failed four times before they went through', async () => {
    const { a, b, conversations, members, cursors } = await setUp('tom', 'uma');
    const ledger = new SendLedger();
    // The next four inbox writes fail (a failover, a full disk for a moment), then writes work again.
    await query(sys().ns, `
      CREATE SEQUENCE public.inbox_write_attempts;
      CREATE FUNCTION public.fail_four_inbox_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('public.inbox_write_attempts') <= 4 THEN RAISE EXCEPTION 'injected transient write failure'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER transient_failure BEFORE INSERT ON inbox FOR EACH STATEMENT EXECUTE FUNCTION public.fail_four_inbox_writes();`);
    try {
      const acks = await Promise.all(Array.from({ length: 120 }, (_, i) => ledger.send(a, conversations[i % 3]!, `flaky-${i}`)));
      for (const ack of acks) expect(ack.ok).toBe(true);
      await caughtUp(sys().ns);
    } finally {
      await query(sys().ns, 'DROP TRIGGER IF EXISTS transient_failure ON inbox');
    }
    // The failures happened, and the projector retried past them.
    const [{ last_value }] = await query<{ last_value: string }>(sys().ns, 'SELECT last_value FROM public.inbox_write_attempts');
    expect(Number(last_value)).toBeGreaterThan(4);
    // Commits of several partitions share one statement, and a failed group is retried one
    // partition at a time inside the group commit: how many of the four failures reach a
    // pump (and its log) depends on how the batches were grouped, but some always do.
    expect(sys().app.output().match(/batch failed; retrying/g)?.length).toBeGreaterThanOrEqual(1);

    await expectAppliedOnce(b, conversations, ledger);
    await expectNothingLost(sys().ns, ledger, { url: sys().app.url, members, cursors });
  });
});
