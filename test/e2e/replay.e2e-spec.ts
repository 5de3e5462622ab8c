import type { Message } from '@chat/contracts';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, wholeHistory, type TestClient } from '../support/clients';
import { appendRaw, caughtUp, query, readModelChecksums } from '../support/inspect';
import { createNamespace, TEST_ADMIN_TOKEN, type TestNamespace, UNLIMITED } from '../support/namespace';
import { holdSwapLock } from '../support/pg-lock';
import { waitFor } from '../support/wait';
import { mixedWorkload } from '../support/workload';
import { replayCli } from '../support/replay';

jest.setTimeout(180_000);

async function connectAll(url: string) {
  const [ann, bob, cat, dan] = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((u) => connectClient(url, u)));
  return { ann: ann!, bob: bob!, cat: cat!, dan: dan! };
}

describe('replay', () => {
  let ns: TestNamespace;
  let app: AppProcess | undefined;
  let users: Awaited<ReturnType<typeof connectAll>>;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    ns = createNamespace('replay', UNLIMITED);
    app = await startApp({ env: ns.env });
    users = await connectAll(app.url);
    clients.push(...Object.values(users));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.stop();
    await ns.cleanup();
  });

  it('rebuilds read models identical row for row to the live ones after a mixed workload', async () => {
    const { group } = await mixedWorkload(users);
    // What the rules refuse at its place in the log, and what is not an event at all.
    await appendRaw(ns, group, { type: 'MessageSent', v: 1, conversationId: group, senderId: 'mallory', clientMsgId: 'x', body: 'not a member', at: new Date().toISOString() });
    await appendRaw(ns, group, 'not json');
    await caughtUp(ns);
    const live = await readModelChecksums(ns);
    expect(Number(live.timeline!.split(' ')[0])).toBeGreaterThan(30);
    expect(Number(live.rejected_events!.split(' ')[0])).toBeGreaterThan(0);

    const { code, output } = await replayCli(ns);
    expect({ code, tail: output.slice(-600) }).toEqual({ code: 0, tail: expect.stringMatching(/\| timeline \| \d+ \| [\d.]+ \| \d+ \|/) });
    expect(output).toMatch(/events\/s/);
    expect(await readModelChecksums(ns)).toEqual(live);
  });

  it('rebuilds the search index identical to the live one, which indexed nothing the rules refused', async () => {
    // The first test's workload is in the log too: sends, edits, deletes, members coming and going.
    const { conversation } = await users.ann.ok('conversation:create', { type: 'group', members: ['bob'], title: 'search replay' });
    const group = conversation.id;
    const edited = await users.bob.ok('message:send', { conversationId: group, clientMsgId: 'z-edit', body: 'first words' });
    await users.bob.ok('message:edit', { conversationId: group, seq: edited.seq, body: 'second words' });
    const gone = await users.bob.ok('message:send', { conversationId: group, clientMsgId: 'z-gone', body: 'zanzibar deleted' });
    await users.bob.ok('message:delete', { conversationId: group, seq: gone.seq });
    const refused = await appendRaw(ns, group, { type: 'MessageSent', v: 1, conversationId: group, senderId: 'mallory', clientMsgId: 'y', body: 'zanzibar intruder', at: new Date().toISOString() });
    await users.ann.ok('message:send', { conversationId: group, clientMsgId: 'zanzibar', body: 'zanzibar member' });
    await caughtUp(ns);
    const index = () => query<{ n: string; sum: string }>(ns, `SELECT count(*) AS n, md5(string_agg(conversation_id || ':' || seq || ':' || sent_at || ':' || tsv::text, ',' ORDER BY conversation_id, seq)) AS sum FROM search.messages`);
    const live = await index();
    expect(Number(live[0]!.n)).toBeGreaterThanOrEqual(2);
    expect(await query(ns, 'SELECT seq FROM search.messages WHERE conversation_id = $1 AND seq = $2', [group, refused])).toEqual([]);
    expect((await users.ann.ok('search', { query: 'zanzibar' })).hits.map((m) => m.body)).toEqual(['zanzibar member']);

    const { code, output } = await replayCli(ns, 'search');
    expect({ code, tail: output.slice(-600) }).toEqual({ code: 0, tail: expect.stringMatching(/\| search \| \d+ \| [\d.]+ \| \d+ \|/) });
    expect(await index()).toEqual(live);
    expect((await users.bob.ok('search', { query: 'zanzibar' })).hits.map((m) => m.body)).toEqual(['zanzibar member']);
    // The live search projector goes on after the swap, from the swapped-in checkpoints.
    await users.ann.ok('message:send', { conversationId: group, clientMsgId: 'zanzibar-2', body: 'zanzibar again' });
    expect((await users.ann.ok('search', { query: 'zanzibar' })).hits.map((m) => m.body)).toEqual(['zanzibar again', 'zanzibar member']);
    const listed = (await (await fetch(`${app!.url}/v1/admin/projections`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { projections: Array<{ name: string }> };
    expect(listed.projections.map((p) => p.name)).toEqual(['timeline', 'search']);
  });

  it('keeps live traffic flowing through a rebuild started from the admin API, losing nothing', async () => {
    const { ann, bob } = users;
    const { conversation } = await ann.ok('conversation:create', { type: 'group', members: ['bob'], title: 'during' });
    const acked: number[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending || i < 20; i++) {
        acked.push((await ann.ok('message:send', { conversationId: conversation.id, clientMsgId: `during-${i}`, body: `while rebuilding ${i}` })).seq);
      }
    })();
    await waitFor('some traffic before the rebuild', () => acked.length >= 10);

    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const started = await fetch(`${app!.url}/v1/admin/projections/timeline/rebuild`, { method: 'POST', headers: admin });
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({ rebuild: expect.objectContaining({ projection: 'timeline', state: 'building' }) });
    const done = await waitFor('the rebuild to finish', async () => {
      const res = await fetch(`${app!.url}/v1/admin/projections`, { headers: admin });
      const body = (await res.json()) as { projections: Array<{ rebuild?: { state: string; eventsPerSecond: number } }> };
      const state = body.projections[0]?.rebuild?.state;
      if (state === 'failed') throw new Error(JSON.stringify(body));
      return state === 'done' ? body.projections[0]!.rebuild! : undefined;
    }, 120_000, 100);
    expect(done.eventsPerSecond).toBeGreaterThan(0);
    sending = false;
    await sender;

    // Every message acked before, during and after the swap is readable once, in order.
    await caughtUp(ns);
    const history = await waitFor('every acked message in history', async () => {
      const messages = await wholeHistory(bob, conversation.id);
      return messages.length >= acked.length ? messages : undefined;
    });
    expect(history.map((m: Message) => m.seq)).toEqual(acked);
    // And live delivery still works after the swap.
    const after = await ann.ok('message:send', { conversationId: conversation.id, clientMsgId: 'after-swap', body: 'after' });
    await waitFor('the post-swap message live', () => bob.messages().some((m) => m.seq === after.seq));

    // A second rebuild with no traffic is identical to what the live projector built since.
    await caughtUp(ns);
    const live = await readModelChecksums(ns);
    const second = await replayCli(ns);
    expect({ code: second.code, tail: second.output.slice(-600) }).toEqual({ code: 0, tail: expect.any(String) });
    expect(await readModelChecksums(ns)).toEqual(live);
  });

  it('answers 409 to a second rebuild while one runs, and the refused one is not shown as the last rebuild', async () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const post = () => fetch(`${app!.url}/v1/admin/projections/timeline/rebuild`, { method: 'POST', headers: admin });
    const lastRebuild = async () => {
      const body = (await (await fetch(`${app!.url}/v1/admin/projections`, { headers: admin })).json()) as { projections: Array<{ rebuild?: { state: string; startedAt: string } }> };
      return body.projections[0]!.rebuild!;
    };
    // The rebuild's swap waits for this lock (live commits hold it shared too): it stays running until released.
    const swap = await holdSwapLock(ns);
    try {
      const first = await post();
      expect(first.status).toBe(202);
      const { rebuild } = (await first.json()) as { rebuild: { state: string; startedAt: string } };
      await waitFor('the rebuild to wait for its swap', async () => (await lastRebuild()).state === 'swapping');
      const second = await post();
      expect(second.status).toBe(409);
      expect(await second.json()).toMatchObject({ message: expect.stringMatching(/already running/) });
      expect(await lastRebuild()).toMatchObject({ state: 'swapping', startedAt: rebuild.startedAt });
      await swap.release();
      await waitFor('the rebuild to finish', async () => (await lastRebuild()).state === 'done', 60_000);
      expect(await lastRebuild()).toMatchObject({ state: 'done', startedAt: rebuild.startedAt });
    } finally {
      await swap.release();
    }
  });

  it('refuses a rebuild of an unknown projection and one without the admin token', async () => {
    expect((await fetch(`${app!.url}/v1/admin/projections/nope/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${app!.url}/v1/admin/projections/timeline/rebuild`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${app!.url}/v1/admin/projections/timeline/rebuild`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-wrong' } })).status).toBe(403);
  });
});
