import { brotliDecompressSync } from 'node:zlib';
import type { Message } from '@chat/contracts';
import { BlobStore } from '@chat/storage';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, wholeHistory, type TestClient } from '../support/clients';
import { query } from '../support/inspect';
import { createNamespace, SHARED, TEST_ADMIN_TOKEN, UNLIMITED, type TestNamespace } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const blobs = new BlobStore({ endpoint: SHARED.s3, bucket: 'chat', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

interface Tier {
  tier: string;
  messages: number;
  blocks?: number;
}

async function storage(url: string): Promise<{ tiers: Tier[]; damaged: unknown[] }> {
  return (await fetch(`${url}/v1/admin/storage`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json() as Promise<{ tiers: Tier[]; damaged: unknown[] }>;
}
const count = (s: { tiers: Tier[] }, tier: string) => s.tiers.find((t) => t.tier === tier)!.messages;

/** History read back in pages of 7 from `beforeSeq`: the same pages whichever tier holds them. */
async function pages(client: TestClient, conversationId: string, beforeSeq: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let before = beforeSeq; ; ) {
    const page = await client.ok('history', { conversationId, beforeSeq: before, limit: 7 });
    out.push(page.messages.map((m: Message) => m.seq));
    if (!page.hasMore) return out;
    before = page.messages[0]!.seq;
  }
}

/** Every body in every S3 object of the namespace, decoded. */
async function coldBodies(ns: string): Promise<string> {
  let all = '';
  for await (const o of blobs.list(`${ns}/`)) all += brotliDecompressSync(await blobs.get(o.key)).toString('utf8');
  return all;
}

afterAll(() => blobs.close());

describe('tiered storage with ages of seconds', () => {
  const sys = useSystem('tiers', { ...UNLIMITED, CHAT_TIER_HOT_AGE: '2s', CHAT_TIER_WARM_AGE: '5s', CHAT_ARCHIVE_INTERVAL: '500ms', CHAT_ARCHIVE_BLOCK: '10' });

  it('moves messages hot -> warm -> cold while traffic continues; pages across each boundary stay the same', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const id = conversation.id;
    const first: number[] = [];
    for (let i = 0; i < 60; i++) first.push((await alice.ok('message:send', { conversationId: id, clientMsgId: `m${i}`, body: `message ${i}` })).seq);
    await alice.ok('message:edit', { conversationId: id, seq: first[3]!, body: 'message 3, edited while hot' });
    const end = first[59]! + 1;
    const before = await pages(bob, id, end);
    expect(before.flat().sort((a, b) => a - b)).toEqual(first);
    const staleCursor = (await bob.ok('sync', {})).next;

    // Traffic goes on while the archiver moves the first 60 down.
    let sending = true;
    const later: number[] = [];
    const traffic = (async () => {
      for (let i = 0; sending; i++) later.push((await bob.ok('message:send', { conversationId: id, clientMsgId: `b${i}`, body: `later ${i}` })).seq);
    })();
    const seen = new Set<string>();
    await waitFor('the first 60 to reach the cold tier', async () => {
      const s = await storage(sys().app.url);
      const mix = ['hot', 'warm', 'cold'].filter((t) => count(s, t) > 0).join('+');
      seen.add(mix);
      // Whatever mix of tiers holds them at this moment, the pages are the same.
      expect(await pages(bob, id, end)).toEqual(before);
      return count(s, 'cold') >= 60;
    }, 120_000, 200);
    sending = false;
    await traffic;
    // The pages were compared while the messages were spread over two and three tiers.
    expect([...seen].some((mix) => mix.split('+').length >= 2)).toBe(true);

    const all = await waitFor('the last sends projected', async () => {
      const h = await wholeHistory(bob, id);
      return h.length === first.length + later.length ? h : undefined;
    });
    expect(all.map((m) => m.seq)).toEqual([...first, ...later]);
    expect(all[3]).toMatchObject({ body: 'message 3, edited while hot', editedAt: expect.any(String) });
    // The admin route reads across the tiers too, ascending.
    const admin = await (await fetch(`${sys().app.url}/v1/admin/conversations/${id}/messages?limit=200`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json() as { messages: Message[] };
    expect(admin.messages.map((m) => m.seq)).toEqual([...first, ...later].slice(0, 200));
    // A cursor from before the moves gets a snapshot; the snapshot shows the latest messages from their tiers.
    const synced = await bob.ok('sync', { since: staleCursor });
    expect(synced.reset).toBe(true);
    expect(synced.events.map((e) => e.seq)).toEqual([...first, ...later].slice(-20));
  });

  it('applies edits, deletes and reactions to archived messages; a deleted body leaves S3', async () => {
    const alice = await sys().connect('ann');
    const bob = await sys().connect('ben');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['ben'] });
    const id = conversation.id;
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) seqs.push((await alice.ok('message:send', { conversationId: id, clientMsgId: `c${i}`, body: `secret number ${i}` })).seq);
    await waitFor('all twelve in the cold tier', async () => (await query(sys().ns, 'SELECT sum(message_count)::int AS n FROM cold_manifest WHERE conversation_id = $1', [id]))[0]?.n === 12, 60_000, 200);

    await alice.ok('message:edit', { conversationId: id, seq: seqs[1]!, body: 'edited in the cold' });
    await bob.ok('reaction:add', { conversationId: id, seq: seqs[1]!, emoji: '🧊' });
    await alice.ok('message:delete', { conversationId: id, seq: seqs[7]! });
    const history = await wholeHistory(bob, id);
    expect(history[1]).toMatchObject({ body: 'edited in the cold', reactions: { '🧊': ['ben'] } });
    expect(history[7]).toMatchObject({ body: '', deleted: true });
    expect(history.map((m) => m.seq)).toEqual(seqs);
    // The archiver folds the patches into new objects: the deleted body is gone from S3 for good.
    await waitFor('the patches folded into the cold blocks', async () => (await query(sys().ns, 'SELECT count(*)::int AS n FROM tier_patches'))[0]!.n === 0, 60_000, 200);
    const bodies = await coldBodies(sys().ns.name);
    expect(bodies).not.toContain('secret number 7');
    expect(bodies).toContain('secret number 8');
    expect(bodies).toContain('edited in the cold');
    expect((await wholeHistory(bob, id))[1]).toMatchObject({ body: 'edited in the cold', reactions: { '🧊': ['ben'] } });
  });

  it('keeps an archived root\'s thread summary and takes replies to it; the thread pages across tiers', async () => {
    const alice = await sys().connect('tia');
    const bob = await sys().connect('tib');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['tib'] });
    const id = conversation.id;
    const root = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'root', body: 'the root' })).seq;
    const early = (await bob.ok('message:send', { conversationId: id, clientMsgId: 'early', body: 'an early reply', threadRootSeq: root })).seq;
    for (let i = 0; i < 10; i++) await alice.ok('message:send', { conversationId: id, clientMsgId: `f${i}`, body: `filler ${i}` });
    await waitFor('the root in the cold tier', async () => (await query(sys().ns, 'SELECT 1 FROM cold_manifest WHERE conversation_id = $1 AND first_seq <= $2', [id, root])).length === 1, 60_000, 200);

    const late = (await alice.ok('message:send', { conversationId: id, clientMsgId: 'late', body: 'a late reply', threadRootSeq: root })).seq;
    const main = await waitFor('the summary of the archived root', async () => {
      const h = await wholeHistory(bob, id);
      return h[0]?.thread?.replies === 2 ? h : undefined;
    });
    expect(main[0]).toMatchObject({ seq: root, body: 'the root', thread: { replies: 2, lastReplySeq: late, participants: ['tia', 'tib'] } });
    expect(main.some((m) => m.threadRootSeq !== undefined)).toBe(false);
    expect(main).toHaveLength(11);
    // One reply archived, one hot: the thread page holds both, in order.
    const thread = await bob.ok('history', { conversationId: id, threadRootSeq: root });
    expect(thread.messages.map((m) => [m.seq, m.body])).toEqual([[early, 'an early reply'], [late, 'a late reply']]);
  });
});

describe('the archiver killed between the steps of a move', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  beforeAll(() => {
    // The all-in-one keeps everything hot (default ages); a separate archiver with short ages moves.
    ns = createNamespace('archcrash', UNLIMITED);
  });
  afterAll(async () => {
    await app?.stop();
    await ns.cleanup();
  });
  const archiverEnv = (extra: Record<string, string> = {}) => ({ ...ns.env, CHAT_TIER_HOT_AGE: '1s', CHAT_TIER_WARM_AGE: '2s', CHAT_ARCHIVE_INTERVAL: '300ms', CHAT_ARCHIVE_BLOCK: '5', ...extra });

  it('loses and duplicates nothing, and detects a corrupted cold object by its checksum', async () => {
    app = await startApp({ env: ns.env });
    const alice = await connectClient(app.url, 'alice');
    const bob = await connectClient(app.url, 'bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const id = conversation.id;
    const seqs: number[] = [];
    const exactlyOnce = async () => expect((await wholeHistory(bob, id)).map((m) => m.seq)).toEqual(seqs);
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) seqs.push((await alice.ok('message:send', { conversationId: id, clientMsgId: `s${seqs.length}`, body: `body ${seqs.length}` })).seq);
    };
    await send(20);

    for (const step of ['warm-copied', 'cold-put', 'cold-verified', 'cold-recorded']) {
      const archiver = await startApp({ env: archiverEnv({ CHAT_TEST_ARCHIVER_CRASH: step }), script: 'start:archiver', ready: false });
      await archiver.exited;
      expect(archiver.output()).toContain(`test hook: archiver crashing at ${step}`);
      await exactlyOnce();
      await send(5);
    }
    // A patch on a cold block, then a crash after the rewritten object is put, before it is recorded.
    await alice.ok('message:edit', { conversationId: id, seq: seqs[0]!, body: 'patched' });
    const patcher = await startApp({ env: archiverEnv({ CHAT_TEST_ARCHIVER_CRASH: 'patch-put' }), script: 'start:archiver', ready: false });
    await patcher.exited;
    await exactlyOnce();

    // Then an archiver that is not stopped: everything ends up cold, once, leftovers collected.
    const archiver = await startApp({ env: archiverEnv(), script: 'start:archiver' });
    await waitFor('everything cold', async () => {
      const [row] = await query<{ n: number }>(ns, 'SELECT coalesce(sum(message_count), 0)::int AS n FROM cold_manifest');
      const [patches] = await query<{ n: number }>(ns, 'SELECT count(*)::int AS n FROM tier_patches');
      return row!.n === seqs.length && patches!.n === 0;
    }, 60_000, 200);
    await exactlyOnce();
    expect((await wholeHistory(bob, id))[0]).toMatchObject({ body: 'patched' });
    await archiver.stop();

    // Corrupt one object: the page that needs it is refused and the damage reported.
    const [victim] = await query<{ key: string; first_seq: string }>(ns, 'SELECT key, first_seq FROM cold_manifest ORDER BY first_seq LIMIT 1');
    await blobs.put(victim!.key, Buffer.from('not what was written'));
    // A gateway that has not read (and cached) the block yet must read it from S3.
    const gateway = await startApp({ env: ns.env, script: 'start:gateway' });
    const fresh = await connectClient(gateway.url, 'bob');
    const refused = await fresh.request('history', { conversationId: id, beforeSeq: seqs[3]!, limit: 2 });
    expect(refused).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/damaged/) }) });
    const report = await storage(app.url);
    expect(report.damaged).toEqual([expect.objectContaining({ tier: 'cold', conversationId: id, firstSeq: Number(victim!.first_seq), reason: expect.stringMatching(/checksum/) })]);
    // The admin route of an api process that has not cached the block either.
    const api = await startApp({ env: ns.env, script: 'start:api' });
    const admin = await fetch(`${api.url}/v1/admin/conversations/${id}/messages`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(admin.status).toBe(503);
    expect(((await admin.json()) as { message: string }).message).toMatch(/damaged/);
    for (const c of [alice, bob, fresh]) c.close();
    await Promise.all([gateway.stop(), api.stop()]);
  });
});
