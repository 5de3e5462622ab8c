import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatEvent } from '@chat/contracts';
import { freePort, ROOT } from '../support/app-process';
import { waitForEvents } from '../support/clients';
import { appendRaw, caughtUp, query } from '../support/inspect';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { hookOf } from '../../apps/webhooks/src/hook';
import { WebhookClient } from '../../apps/webhooks/src/webhook.client';
import { adminWebhooks, HOOK_SECRET, idsOf, visibleEvents, WebhookReceiver, webhooksCaughtUp } from '../support/webhook-receiver';

jest.setTimeout(120_000);

/** Runs a built script of dist/ with the namespace's environment; resolves with its exit code and output. */
function runScript(script: string, args: string[], env: Record<string, string>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', script), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not end within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ascending = (seqs: number[]) => seqs.every((s, i) => i === 0 || seqs[i - 1]! < s);

describe('integrator webhooks', () => {
  let receiver: WebhookReceiver;
  let sys: TestSystem;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    sys = await startSystem('webhooks', { ...UNLIMITED, CHAT_WEBHOOK_URL: `${receiver.url}?key=not-shown`, CHAT_WEBHOOK_SECRET: HOOK_SECRET, CHAT_WEBHOOK_CONCURRENCY: '4' });
  });
  afterAll(async () => {
    await sys?.close();
    await receiver?.close();
  });

  let group = '';
  let direct = '';
  let refusedSeq = 0;

  it('POSTs every conversation event once, in seq order per conversation, signed, as members see it; nothing the rules refused', async () => {
    const alice = await sys.connect('alice');
    const bob = await sys.connect('bob');
    group = (await alice.ok('conversation:create', { type: 'group', members: ['bob', 'carol'], title: 'hooks' })).conversation.id;
    direct = (await alice.ok('conversation:create', { type: 'direct', members: ['bob'] })).conversation.id;
    // Pipelined sends from two users into two conversations, then every other kind of event.
    const sends = [
      ...Array.from({ length: 20 }, (_, i) => alice.ok('message:send', { conversationId: group, clientMsgId: `g${i}`, body: `group ${i}` })),
      ...Array.from({ length: 10 }, (_, i) => alice.ok('message:send', { conversationId: direct, clientMsgId: `d${i}`, body: `direct ${i}` })),
      ...Array.from({ length: 5 }, (_, i) => bob.ok('message:send', { conversationId: group, clientMsgId: `b${i}`, body: `bob ${i}` })),
    ];
    const acks = await Promise.all(sends);
    const first = acks[0]!.seq;
    await alice.ok('message:edit', { conversationId: group, seq: first, body: 'group 0, edited' });
    await bob.ok('reaction:add', { conversationId: group, seq: first, emoji: ':+1:' });
    await alice.ok('message:delete', { conversationId: direct, seq: acks[20]!.seq });
    await bob.ok('read', { conversationId: group, seq: acks[19]!.seq });
    await alice.ok('conversation:add_members', { conversationId: group, userIds: ['dave'] });
    await alice.ok('conversation:remove_members', { conversationId: group, userIds: ['carol'] });
    // An entry the projection refuses (not an event): appended to the log, never hooked.
    refusedSeq = await appendRaw(sys.ns, group, 'not an event');
    await alice.ok('message:send', { conversationId: group, clientMsgId: 'last', body: 'after the refused entry' });
    await caughtUp(sys.ns);

    const expected = await visibleEvents(sys.ns);
    await receiver.waitForAll(idsOf(expected));
    // Each once, in seq order per conversation: exactly the events members see.
    expect(receiver.repeats).toEqual([]);
    expect(receiver.accepted).toHaveLength(idsOf(expected).length);
    expect(Object.fromEntries(receiver.byConversation())).toEqual(Object.fromEntries(expected));
    for (const seqs of receiver.byConversation().values()) expect(ascending(seqs)).toBe(true);
    const [refusal] = await query<{ code: string }>(sys.ns, 'SELECT code FROM rejected_events WHERE seq = $1', [refusedSeq]);
    expect(refusal?.code).toBe('MALFORMED');
    expect(receiver.accepted.some((c) => c.conversationId === group && c.seq === refusedSeq)).toBe(false);

    // Signed, shaped as the contract says, and the event is the one sync returns.
    const rows = await query<{ conversation_id: string; seq: string; payload: ChatEvent; changed_seq: string | null }>(sys.ns, 'SELECT conversation_id, seq, payload, changed_seq FROM timeline');
    const stored = new Map(rows.map((r) => [`${r.conversation_id}:${r.seq}`, r]));
    for (const call of receiver.accepted) {
      expect({ id: call.id, verified: call.verified, keys: call.keys }).toEqual({ id: call.id, verified: true, keys: ['conversationId', 'event', 'id', 'seq', 'type'] });
      expect(call.id).toBe(`${call.conversationId}:${call.seq}`);
      expect([call.type, call.event.conversationId]).toEqual([call.event.type, call.conversationId]);
      // A `read` event's own seq is the marker; every other event's is its place in the log.
      if (call.type !== 'read') expect(call.event.seq).toBe(call.seq);
      const row = stored.get(call.id)!;
      // Rows changed later (a message edited, reacted to, deleted) were sent in the state of the time.
      if (row.changed_seq === null) expect(call.event).toEqual(row.payload);
    }
    expect(new Set(receiver.accepted.map((c) => c.type))).toEqual(new Set(['message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read']));
    // Nobody waited for the receiver: bob had every message live.
    await waitForEvents(bob, 20 + 10 + 1, (e) => e.type === 'message' && e.senderId === 'alice');
  });

  it('shows per partition the position, the lag, what is retrying and the last delivery at GET /v1/admin/webhooks, paged, admin only', async () => {
    const w = await webhooksCaughtUp(sys.app);
    expect(w).toMatchObject({ enabled: true, url: receiver.url });
    expect(JSON.stringify(w)).not.toContain('not-shown');
    expect(w.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    for (const p of w.partitions) {
      expect(p).toMatchObject({ stream: `${sys.ns.name}_P${p.partition}`, consumer: `${sys.ns.name}_webhooks_p${p.partition}`, position: p.lastSeq, lag: 0, retrying: 0 });
      expect(p.lastError).toBeUndefined();
    }
    const [{ partition }] = await query<{ partition: number }>(sys.ns, 'SELECT partition FROM conversations WHERE id = $1', [group]);
    await waitFor('a report of the last delivery', async () => (await adminWebhooks(sys.app)).partitions[partition]!.lastDeliveredAt !== undefined);

    const first = await adminWebhooks(sys.app, '?limit=3');
    expect([first.partitions.map((p) => p.partition), typeof first.next]).toEqual([[0, 1, 2], 'string']);
    const second = await adminWebhooks(sys.app, `?limit=3&cursor=${first.next}`);
    expect([second.partitions.map((p) => p.partition), second.next]).toEqual([[3], undefined]);
    const url = `${sys.app.url}/v1/admin/webhooks`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(403);
    for (const bad of ['?limit=0', '?cursor=garbage', `?cursor=${Buffer.from('"x"').toString('base64url')}`]) {
      const res = await fetch(`${url}${bad}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
  });

  it('replays a partition from a seq with `npm run webhooks:replay`: every event from there POSTed again, in order, with progress', async () => {
    const [{ partition }] = await query<{ partition: number }>(sys.ns, 'SELECT partition FROM conversations WHERE id = $1', [group]);
    const partOf = new Map((await query<{ id: string; partition: number }>(sys.ns, 'SELECT id, partition FROM conversations')).map((r) => [r.id, r.partition]));
    const expected = await visibleEvents(sys.ns);
    const groupSeqs = expected.get(group)!;
    const from = groupSeqs[Math.floor(groupSeqs.length / 2)]!;
    const before = receiver.repeats.length;
    const run = await runScript('apps/webhooks/src/replay.js', ['--from', String(from), '--partitions', String(partition)], sys.ns.env);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const lastSeq = (await adminWebhooks(sys.app)).partitions[partition]!.lastSeq;
    expect(run.stdout).toContain(`partition ${partition}: from seq ${from}, ${lastSeq - from + 1} events to deliver again`);
    expect(run.stdout).toMatch(/webhooks replay \[#+\] \d+\/\d+ events/);
    expect(run.stdout).toMatch(/^done: \d+ events replayed/m);
    // Everything of that partition from `from` on came again, once, in seq order per conversation; nothing else.
    const again = new Map<string, number[]>();
    for (const [id, seqs] of expected) if (partOf.get(id) === partition) again.set(id, seqs.filter((s) => s >= from));
    for (const [id, seqs] of again) if (seqs.length === 0) again.delete(id);
    await waitFor('the replayed hooks', () => receiver.repeats.length - before >= idsOf(again).length);
    const repeated = new Map<string, number[]>();
    for (const c of receiver.repeats.slice(before)) repeated.set(c.conversationId, [...(repeated.get(c.conversationId) ?? []), c.seq]);
    expect(Object.fromEntries(repeated)).toEqual(Object.fromEntries(again));
    expect(receiver.repeats.slice(before).every((c) => c.verified)).toBe(true);

    // Afterwards the webhooks go on with what comes next.
    const alice = await sys.connect('alice');
    const { seq } = await alice.ok('message:send', { conversationId: group, clientMsgId: 'after-replay', body: 'after the replay' });
    await receiver.waitForAll([`${group}:${seq}`]);
  });

  it('replays from a time (nothing after a time still to come), and refuses bad arguments with its usage', async () => {
    const repeats = receiver.repeats.length;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const run = await runScript('apps/webhooks/src/replay.js', ['--from', future], sys.ns.env);
    expect(run.code).toBe(0);
    for (let p = 0; p < 4; p++) expect(run.stdout).toMatch(new RegExp(`^partition ${p}: from seq \\d+, 0 events to deliver again`, 'm'));
    expect(run.stdout).toMatch(/^done: 0 events replayed/m);
    // A time before everything: the whole log of a partition, from its first event.
    const [{ partition }] = await query<{ partition: number }>(sys.ns, 'SELECT partition FROM conversations WHERE id = $1', [direct]);
    const all = await runScript('apps/webhooks/src/replay.js', ['--from', '2000-01-01T00:00:00Z', '--partitions', String(partition), '--no-follow'], sys.ns.env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^partition ${partition}: from seq 1, \\d+ events to deliver again`, 'm'));
    expect(all.stdout).not.toMatch(/^done/m);
    const directSeqs = (await visibleEvents(sys.ns)).get(direct)!;
    await waitFor('the whole partition again', () => receiver.repeats.slice(repeats).filter((c) => c.conversationId === direct).length >= directSeqs.length);
    expect(receiver.repeats.slice(repeats).filter((c) => c.conversationId === direct).map((c) => c.seq)).toEqual(directSeqs);
    await webhooksCaughtUp(sys.app);

    for (const args of [[], ['--from', 'yesterday'], ['--from', '2025-02-30T00:00:00Z'], ['--from', '1', '--partitions', '9']]) {
      const bad = await runScript('apps/webhooks/src/replay.js', args, sys.ns.env);
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
      expect(bad.stderr).toMatch(/^webhooks:replay: .+\nusage: npm run webhooks:replay -- --from <seq\|ISO time>/);
    }
  });

  it('refuses to start with a webhook URL that is not https to a public host', async () => {
    const env = { ...sys.ns.env, NODE_ENV: 'production', CHAT_WEBHOOK_SECRET: HOOK_SECRET };
    for (const [url, reason] of [
      ['http://hooks.example.com/x', 'plain http refused'],
      ['https://10.1.2.3/x', 'host refused: 10.1.2.3 is a private address'],
      [receiver.url, 'loopback needs CHAT_WEBHOOK_ALLOW_LOOPBACK=1'],
    ]) {
      const run = await runScript('apps/webhooks/src/main.js', [], { ...env, CHAT_WEBHOOK_URL: url! }, 20_000);
      expect({ url, code: run.code }).toEqual({ url, code: 1 });
      expect(run.stderr).toContain(`config: CHAT_WEBHOOK_URL: `);
      expect(run.stderr).toContain(reason);
    }
  });
});

describe('the receiver example of docs/operations.md', () => {
  it('takes signed calls, drops a repeat by id, and refuses a call signed with another secret', async () => {
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const code = /<!-- webhook receiver example[^>]*-->\n```js\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'chat-receiver-'));
    const port = await freePort();
    writeFileSync(join(dir, 'webhook-receiver.mjs'), code!);
    const child = spawn(process.execPath, [join(dir, 'webhook-receiver.mjs')], { env: { ...process.env, WEBHOOK_SECRET: HOOK_SECRET, PORT: String(port) } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const url = `http://127.0.0.1:${port}/hooks`;
    const signed = new WebhookClient({ url, secret: HOOK_SECRET, timeoutMs: 2_000, allowLoopback: true });
    const forged = new WebhookClient({ url, secret: 'another-secret-0123456789abc', timeoutMs: 2_000, allowLoopback: true });
    try {
      const sent = hookOf('g_doc', 3, { type: 'message', conversationId: 'g_doc', seq: 3, senderId: 'ann', clientMsgId: 'c1', body: 'hi', sentAt: new Date().toISOString() });
      const read = hookOf('g_doc', 4, { type: 'read', conversationId: 'g_doc', userId: 'bob', seq: 3 });
      await waitFor('the example to listen', async () => (await signed.post(sent)).ok);
      expect(await signed.post(sent)).toEqual({ ok: true, status: 204 });
      expect(await signed.post(read)).toEqual({ ok: true, status: 204 });
      expect(await forged.post(hookOf('g_doc', 5, read.event))).toEqual({ ok: false, error: '401' });
      await waitFor('its two lines', () => stdout.trim().split('\n').length >= 2);
      expect(stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { type: 'message', conversationId: 'g_doc', seq: 3, senderId: 'ann' },
        { type: 'read', conversationId: 'g_doc', seq: 4 },
      ]);
    } finally {
      signed.close();
      forged.close();
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
