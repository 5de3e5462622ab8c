import type { Message } from '@chat/contracts';
import { MAX_DISTINCT_REACTIONS } from '@chat/domain';
import { tokenFor, wholeHistory, type TestClient } from '../support/clients';
import { residentBytes, RSS_GROWTH_BOUND } from '../support/hostile';
import { appendRaw, caughtUp, footprint, query } from '../support/inspect';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** Smaller than the defaults, so that a few hundred 16 KiB messages make answers over the caps. */
const ANSWER_BYTES = 256 * 1024;
const SOFT_BYTES = 512 * 1024;
const HARD_BYTES = 2 * 1024 * 1024;
/** What the answer's envelope adds to its items (`{"ok":true,"messages":[...],"hasMore":true}` and the like). */
const ENVELOPE = 1024;
const BODY = 'x'.repeat(16 * 1024);

/** The answer-byte buckets out of the way, where a test is about the other work limits. */
const ANSWERS_UNLIMITED = { CHAT_ANSWER_BYTES_RATE: String(1024 ** 3), CHAT_ANSWER_BYTES_BURST: String(4 * 1024 ** 3) };

type Answer = { ok: boolean; messages?: Message[]; hasMore?: boolean; error?: { code: string; retryAfterMs?: number } };

/**
 * An Engine.IO long-polling session spoken by hand: what the server writes for it waits in
 * the server's buffer until the test polls, so "a client that does not read" needs no
 * kernel buffers to fill first.
 */
async function pollingSession(url: string, userId: string) {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const { sid } = JSON.parse((await (await fetch(base)).text()).slice(1)) as { sid: string };
  const post = async (body: string) => {
    const res = await fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
  };
  const acks = new Map<number, Answer>();
  const poll = async () => {
    const text = await (await fetch(`${base}&sid=${sid}`)).text();
    for (const packet of text.split('\x1e')) {
      const ack = /^43(\d+)\[/.exec(packet);
      if (ack) acks.set(Number(ack[1]), (JSON.parse(packet.slice(2 + ack[1]!.length)) as Answer[])[0]!);
      if (packet === '2') await post('3'); // Engine.IO's ping
    }
    return text;
  };
  await post(`40${JSON.stringify({ token: await tokenFor(userId) })}`);
  await waitFor('the connect packet', async () => (await poll()).startsWith('40'), 10_000);
  let id = 0;
  return {
    acks,
    poll,
    /** Emits an event with an ack id; the answer comes with a later poll. */
    emit: async (event: string, payload: unknown) => {
      const ackId = ++id;
      await post(`42${ackId}${JSON.stringify([event, payload])}`);
      return ackId;
    },
  };
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

const size = (answer: unknown) => Buffer.byteLength(JSON.stringify(answer));

describe('the work one connection can have in flight', () => {
  // Event budgets out of the way: every RATE_LIMITED here comes from the work limits.
  const sys = useSystem('bounds', {
    ...UNLIMITED, ...ANSWERS_UNLIMITED,
    CHAT_MAX_ANSWER_BYTES: String(ANSWER_BYTES),
    CHAT_WRITE_BUFFER_SOFT_BYTES: String(SOFT_BYTES),
    CHAT_WRITE_BUFFER_HARD_BYTES: String(HARD_BYTES),
  });
  let alice: TestClient;
  let bob: TestClient;
  let conversationId: string;
  let sent: number[];

  beforeAll(async () => {
    alice = await sys().connect('alice');
    bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob', 'sleeper', 'poller'] });
    conversationId = conversation.id;
    // 200 messages of 16 KiB: one full history page is 3.3 MB, thirteen times the answer budget.
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => alice.ok('message:send', { conversationId, clientMsgId: `big-${i}`, body: BODY })));
    sent = acks.map((a) => a.seq).sort((a, b) => a - b);
    await caughtUp(sys().ns);
  });

  it('answers a socket firing 60 concurrent history requests of 200 big messages with a few bounded pages and RATE_LIMITED, while others are served', async () => {
    const hog = await sys().connect('bob', { deviceId: 'hog' });
    const carol = await sys().connect('carol');
    const { conversation: other } = await carol.ok('conversation:create', { type: 'direct', members: ['dave'] });
    const rssBefore = await residentBytes(sys().app.url);

    const flood = Promise.all(Array.from({ length: 60 }, () => hog.request('history', { conversationId, limit: 200 }, 60_000) as Promise<Answer>));
    // Another user's send, made while the flood is being answered, is acked (within the client's deadline).
    const bystander = await carol.request('message:send', { conversationId: other.id, clientMsgId: 'beside-the-flood', body: 'hello' }, 10_000);
    const answers = await flood;
    expect(bystander).toEqual(expect.objectContaining({ ok: true, seq: expect.any(Number) }));

    const ok = answers.filter((a) => a.ok);
    const limited = answers.filter((a) => !a.ok);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((a) => a.error!.code === 'RATE_LIMITED' && a.error!.retryAfterMs! > 0)).toBe(true);
    expect(ok.length).toBeGreaterThan(0);
    for (const page of ok) {
      // The newest messages that fit, and "more" so the client pages on.
      expect(size(page)).toBeLessThanOrEqual(ANSWER_BYTES + ENVELOPE);
      expect(page.hasMore).toBe(true);
      expect(page.messages!.map((m) => m.seq)).toEqual(sent.slice(-page.messages!.length));
    }
    // Before the bounds, each of the 60 was answered in full: 60 x 3.3 MB.
    const answered = answers.reduce((n, a) => n + size(a), 0);
    expect(answered).toBeLessThan(24 * ANSWER_BYTES);
    expect((await residentBytes(sys().app.url)) - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
    expect(hog.socket.connected).toBe(true);

    // Paging back through trimmed pages gives every message once, in order.
    expect((await wholeHistory(hog, conversationId)).map((m) => m.seq)).toEqual(sent);
    hog.close();
  });

  it('refuses new queries RATE_LIMITED while a client has more than the soft cap of answers unread, and serves it again once it reads', async () => {
    const session = await pollingSession(sys().app.url, 'poller');
    const before = await metric(sys().app.url, 'chat_answer_bytes_total', 'query="history"');
    // Four at once (the default slots) while nothing waits: all admitted, about 1 MiB of answers left unread.
    const first = await Promise.all([1, 2, 3, 4].map(() => session.emit('history', { conversationId, limit: 200 })));
    await waitFor('the four answers to be made', async () => (await metric(sys().app.url, 'chat_answer_bytes_total', 'query="history"')) - before > 3 * ANSWER_BYTES, 20_000);
    const refused = await session.emit('history', { conversationId, limit: 200 });
    const small = await session.emit('sync', {});
    await waitFor('the answers', async () => (await session.poll(), session.acks.has(small) && first.every((id) => session.acks.has(id))), 20_000);
    for (const id of first) {
      expect(session.acks.get(id)).toEqual(expect.objectContaining({ ok: true, hasMore: true }));
      expect(size(session.acks.get(id))).toBeLessThanOrEqual(ANSWER_BYTES + ENVELOPE);
    }
    for (const id of [refused, small]) {
      expect(session.acks.get(id)).toEqual({ ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) }) });
    }
    // Read: nothing waits any more, the next query is answered.
    const again = await session.emit('history', { conversationId, limit: 10 });
    await waitFor('the answer after reading', async () => (await session.poll(), session.acks.get(again)), 20_000);
    expect(session.acks.get(again)).toEqual(expect.objectContaining({ ok: true }));
  });

  it('closes the transport of a client that stays over the hard cap, long before 1,000 packets wait for it', async () => {
    const admin = async () =>
      ((await (await fetch(`${sys().app.url}/v1/admin/users/sleeper/connections`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { connections: unknown[] }).connections.length;
    await pollingSession(sys().app.url, 'sleeper');
    expect(await admin()).toBe(1);
    // Live messages of 16 KiB pile up for a member that never polls again.
    let sends = 0;
    await waitFor('the sleeper to be dropped', async () => {
      await alice.ok('message:send', { conversationId, clientMsgId: `pile-${sends++}`, body: BODY });
      return (await admin()) === 0;
    }, 90_000, 0);
    // 2 MiB are about 125 of them: the bytes closed it, not the packet count, whatever arrived during the 2 s grace.
    expect(sends).toBeLessThan(1_000);
    // The others were not: bob still gets the group's messages live.
    const last = await alice.ok('message:send', { conversationId, clientMsgId: 'after-the-sleeper', body: 'still here' });
    await waitFor('bob to get the last message', () => bob.messages().some((m) => m.seq === last.seq), 20_000);
  });

  it(`bounds distinct reactions per message to ${MAX_DISTINCT_REACTIONS}, refusing more with PAYLOAD_TOO_LARGE and writing nothing, and again in log order`, async () => {
    const target = sent[0]!;
    const emoji = (i: number) => `:e${i}:`;
    for (let i = 0; i < MAX_DISTINCT_REACTIONS; i++) await bob.ok('reaction:add', { conversationId, seq: target, emoji: emoji(i) });
    await caughtUp(sys().ns);
    const before = await footprint(sys().ns);
    expect(await bob.request('reaction:add', { conversationId, seq: target, emoji: ':one-too-many:' })).toEqual({
      ok: false, error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    });
    expect(await footprint(sys().ns)).toEqual(before);
    // Joining an emoji already there is still fine.
    await alice.ok('reaction:add', { conversationId, seq: target, emoji: emoji(0) });

    // A gateway that decided on a stale message (or a hostile publisher) appended one more anyway: the projector refuses it where the log has it.
    const raced = await appendRaw(sys().ns, conversationId, {
      type: 'ReactionAdded', v: 1, conversationId, userId: 'bob', targetSeq: target, emoji: ':raced:', at: new Date().toISOString(),
    });
    await caughtUp(sys().ns);
    expect(await query(sys().ns, 'SELECT code FROM rejected_events WHERE conversation_id = $1 AND seq = $2', [conversationId, raced])).toEqual([{ code: 'PAYLOAD_TOO_LARGE' }]);
    const [message] = (await bob.ok('history', { conversationId, beforeSeq: target + 1, limit: 1 })).messages;
    expect(Object.keys(message!.reactions!)).toHaveLength(MAX_DISTINCT_REACTIONS);
    expect(message!.reactions![emoji(0)]).toEqual(['bob', 'alice']);
    expect(message!.reactions![':raced:']).toBeUndefined();
  });
});

describe('the answer bytes one connection is sent a second', () => {
  const RATE = 1024 * 1024;
  const sys = useSystem('answers', {
    ...UNLIMITED,
    CHAT_MAX_ANSWER_BYTES: String(ANSWER_BYTES),
    CHAT_ANSWER_BYTES_RATE: String(RATE),
    CHAT_ANSWER_BYTES_BURST: String(RATE),
  });

  it('refuses a client paging faster than its answer budget RATE_LIMITED with retryAfterMs, and one honouring it gets every message once', async () => {
    const alice = await sys().connect('alice');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const conversationId = conversation.id;
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => alice.ok('message:send', { conversationId, clientMsgId: `big-${i}`, body: BODY })));
    const sent = acks.map((a) => a.seq).sort((a, b) => a - b);
    await caughtUp(sys().ns);

    const bob = await sys().connect('bob');
    const pages: Message[][] = [];
    const refusals: number[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = (await bob.request('history', { conversationId, limit: 20, ...(beforeSeq !== undefined && { beforeSeq }) })) as Answer;
      if (!page.ok) {
        expect(page.error).toEqual(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) }));
        refusals.push(page.error!.retryAfterMs!);
        // What the contract asks of a client: try again once retryAfterMs has passed.
        await new Promise((r) => setTimeout(r, page.error!.retryAfterMs!));
        continue;
      }
      pages.unshift(page.messages!);
      if (!page.hasMore) break;
      beforeSeq = page.messages![0]!.seq;
    }
    // 3.3 MB of messages through a 1 MiB/s budget: refused on the way, each refusal with a
    // wait that pays back what was read, and nothing missing or twice.
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((ms) => ms > 0 && ms <= 10_000)).toBe(true);
    expect(pages.flat().map((m) => m.seq)).toEqual(sent);
    // Another user's connection has a budget of its own.
    const carol = await sys().connect('carol');
    expect(await carol.request('conversation:list', {})).toEqual(expect.objectContaining({ ok: true }));
  });
});
