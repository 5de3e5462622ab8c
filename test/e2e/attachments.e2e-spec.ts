import { randomUUID } from 'node:crypto';
import { ChatClient, putObject } from '@chat/client';
import type { AckResults, ChatEvent, Message } from '@chat/contracts';
import { AttachmentObjects, BlobStore } from '@chat/storage';
import { tokenFor, type TestClient } from '../support/clients';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { footprint, query } from '../support/inspect';
import { natsServers, SHARED, TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const S3 = { endpoint: SHARED.s3, bucket: 'chat', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const MAX = 64 * 1024;
const refused = (code: string) => ({ ok: false, error: expect.objectContaining({ code }) });

describe('attachments: presigned S3 uploads and downloads, checked at send, deleted with their message', () => {
  // The archiver runs often and collects unsent uploads after a few seconds, so that the
  // collection is seen within the test; every other case sends within well under that.
  const sys = useSystem('attach', { ...UNLIMITED, CHAT_ARCHIVE_INTERVAL: '250ms', CHAT_ATTACHMENT_UNSENT_AGE: '20s', CHAT_MAX_ATTACHMENT_BYTES: String(MAX) });
  const objects = new AttachmentObjects(S3);
  const blobs = new BlobStore(S3);
  afterAll(() => {
    objects.close();
    blobs.close();
  });
  const key = (conversationId: string, id: string) => `${sys().ns.name}/attachments/${conversationId}/${id}`;

  /** attachment:create, then the PUT a client makes to the presigned URL. */
  async function upload(client: TestClient, conversationId: string, bytes: Uint8Array, name = 'notes.txt', contentType = 'text/plain'): Promise<AckResults['attachment:create']> {
    const grant = await client.ok('attachment:create', { conversationId, name, contentType, size: bytes.length });
    const put = await fetch(grant.uploadUrl, { method: 'PUT', headers: grant.uploadHeaders, body: bytes });
    expect(put.status).toBe(200);
    return grant;
  }

  async function group(owner: TestClient, members: string[]): Promise<string> {
    return (await owner.ok('conversation:create', { type: 'group', members })).conversation.id;
  }

  it('uploads through a presigned PUT, carries only the metadata in the message, and downloads the same bytes', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const c = await group(alice, ['bob']);
    const bytes = new Uint8Array(3000).map((_, i) => (i * 7) % 256);
    const grant = await upload(alice, c, bytes, 'été 2030.png', 'image/png');
    expect(grant.uploadHeaders).toEqual({ 'Content-Type': 'image/png', 'Content-Length': '3000' });
    expect(Date.parse(grant.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(new URL(grant.uploadUrl).pathname).toBe(`/chat/${key(c, grant.attachmentId)}`);

    const sent = await alice.ok('message:send', { conversationId: c, clientMsgId: 'with-file', body: '', attachments: [grant.attachmentId] });
    const meta = [{ id: grant.attachmentId, name: 'été 2030.png', contentType: 'image/png', size: 3000 }];
    const live = await waitFor('the message at bob', () => bob.messages().find((m) => m.conversationId === c && m.seq === sent.seq));
    expect(live.body).toBe('');
    expect(live.attachments).toEqual(meta);
    const history = (await bob.ok('history', { conversationId: c })).messages.find((m) => m.seq === sent.seq);
    expect(history?.attachments).toEqual(meta);
    // The log and the read model hold the metadata, never the bytes.
    const [row] = await query<{ payload: Message }>(sys().ns, 'SELECT payload FROM timeline WHERE conversation_id = $1 AND seq = $2', [c, sent.seq]);
    expect(row!.payload.attachments).toEqual(meta);
    expect(JSON.stringify(row!.payload).length).toBeLessThan(1000);
    const [conv] = await query<{ partition: number }>(sys().ns, 'SELECT partition FROM conversations WHERE id = $1', [c]);
    const nc = await connect({ servers: natsServers(sys().ns.env.CHAT_NATS_URL!) });
    try {
      const entry = await (await jetstreamManager(nc)).streams.getMessage(`${sys().ns.name}_P${conv!.partition}`, { seq: sent.seq });
      expect(entry!.json<{ type: string; attachments: unknown }>()).toEqual(expect.objectContaining({ type: 'MessageSent', attachments: meta }));
      expect(entry!.data.length).toBeLessThan(1000);
    } finally {
      await nc.close();
    }

    // A resend of the same send takes the same attachments again, and is the same message.
    expect(await alice.ok('message:send', { conversationId: c, clientMsgId: 'with-file', body: '', attachments: [grant.attachmentId] }))
      .toEqual(expect.objectContaining({ seq: sent.seq, duplicate: true }));

    const link = await bob.ok('attachment:url', { conversationId: c, attachmentId: grant.attachmentId });
    expect(new URL(link.url).origin).toBe(SHARED.s3);
    const got = await fetch(link.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toContain("filename*=UTF-8''%C3%A9t%C3%A9%202030.png");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
  });

  it('refuses bad attachments with their codes and writes nothing: wrong size, not uploaded, another user\'s, another conversation\'s, over 10, strangers, oversize, unknown', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const carol = await sys().connect('carol');
    const c = await group(alice, ['bob']);
    const other = await group(alice, ['bob']);
    const good = await upload(alice, c, new TextEncoder().encode('fine'));
    // A client that uploaded other bytes than it declared (by any route: the object is what counts).
    const short = await alice.ok('attachment:create', { conversationId: c, name: 'short.bin', contentType: 'application/octet-stream', size: 10 });
    await blobs.put(key(c, short.attachmentId), new Uint8Array(5));
    const never = await alice.ok('attachment:create', { conversationId: c, name: 'never.txt', contentType: 'text/plain', size: 4 });
    const bobs = await upload(bob, c, new TextEncoder().encode('bobs'));
    const elsewhere = await upload(alice, other, new TextEncoder().encode('else'));
    const before = await footprint(sys().ns);

    const send = (client: TestClient, attachments: unknown, extra: Record<string, unknown> = {}) =>
      client.request('message:send', { conversationId: c, clientMsgId: `bad-${randomUUID()}`, body: '', attachments, ...extra });
    expect(await send(alice, [short.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [never.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [bobs.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [elsewhere.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [randomUUID()])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [good.attachmentId, never.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, Array.from({ length: 11 }, () => randomUUID()))).toEqual(refused('PAYLOAD_TOO_LARGE'));
    expect(await send(alice, [good.attachmentId, good.attachmentId])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, ['../../timeline/x'])).toEqual(refused('BAD_REQUEST'));
    expect(await send(alice, [])).toEqual(refused('BAD_REQUEST'));
    expect(await send(carol, [good.attachmentId])).toEqual(refused('FORBIDDEN'));

    const create = (client: TestClient, payload: Record<string, unknown>) =>
      client.request('attachment:create', { conversationId: c, name: 'a.txt', contentType: 'text/plain', size: 1, ...payload });
    expect(await create(carol, {})).toEqual(refused('FORBIDDEN'));
    expect(await create(alice, { size: MAX + 1 })).toEqual(refused('PAYLOAD_TOO_LARGE'));
    expect(await create(alice, { size: -1 })).toEqual(refused('BAD_REQUEST'));
    expect(await create(alice, { name: '' })).toEqual(refused('BAD_REQUEST'));
    expect(await create(alice, { name: 'x'.repeat(256) })).toEqual(refused('BAD_REQUEST'));
    expect(await create(alice, { name: 'a\nb' })).toEqual(refused('BAD_REQUEST'));
    expect(await create(alice, { contentType: 'text/plain\r\nX-Evil: 1' })).toEqual(refused('BAD_REQUEST'));
    expect(await create(alice, { conversationId: 'no such' })).toEqual(refused('BAD_REQUEST'));

    expect(await carol.request('attachment:url', { conversationId: c, attachmentId: good.attachmentId })).toEqual(refused('FORBIDDEN'));
    expect(await alice.request('attachment:url', { conversationId: c, attachmentId: randomUUID() })).toEqual(refused('NOT_FOUND'));
    expect(await alice.request('attachment:url', { conversationId: other, attachmentId: good.attachmentId })).toEqual(refused('NOT_FOUND'));
    // Not sent yet: its owner may preview it, nobody else sees it.
    expect(await bob.request('attachment:url', { conversationId: c, attachmentId: good.attachmentId })).toEqual(refused('NOT_FOUND'));
    expect((await alice.request('attachment:url', { conversationId: c, attachmentId: good.attachmentId })).ok).toBe(true);
    expect(await alice.request('attachment:url', { conversationId: c, attachmentId: 'x' })).toEqual(refused('BAD_REQUEST'));

    expect(await footprint(sys().ns)).toEqual(before);
    expect(alice.socket.connected && carol.socket.connected).toBe(true);
    // The refusals took nothing: the good upload still goes with a message.
    const ok = await alice.ok('message:send', { conversationId: c, clientMsgId: 'good', body: 'here', attachments: [good.attachmentId] });
    expect(ok.seq).toBeGreaterThan(0);
    expect(await alice.request('message:send', { conversationId: c, clientMsgId: 'again', body: 'twice', attachments: [good.attachmentId] })).toEqual(refused('BAD_REQUEST'));
  });

  it('refuses a download URL to a member removed since the message', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const c = await group(alice, ['bob']);
    const grant = await upload(alice, c, new TextEncoder().encode('secret'));
    await alice.ok('message:send', { conversationId: c, clientMsgId: 'for-bob', body: 'for you', attachments: [grant.attachmentId] });
    expect((await bob.ok('attachment:url', { conversationId: c, attachmentId: grant.attachmentId })).url).toContain(grant.attachmentId);
    await alice.ok('conversation:remove_members', { conversationId: c, userIds: ['bob'] });
    expect(await bob.request('attachment:url', { conversationId: c, attachmentId: grant.attachmentId })).toEqual(refused('FORBIDDEN'));
  });

  it('deletes the objects of a deleted message, and takes its attachments from the message', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const c = await group(alice, ['bob']);
    const one = await upload(alice, c, new TextEncoder().encode('one'));
    const two = await upload(alice, c, new TextEncoder().encode('two!'));
    const sent = await alice.ok('message:send', { conversationId: c, clientMsgId: 'two-files', body: 'files', attachments: [one.attachmentId, two.attachmentId] });
    await alice.ok('message:delete', { conversationId: c, seq: sent.seq });
    for (const id of [one.attachmentId, two.attachmentId]) {
      await waitFor(`the object of ${id} to be deleted`, async () => (await objects.size(key(c, id))) === undefined, 30_000, 100);
    }
    await waitFor('the rows to go', async () => (await query(sys().ns, 'SELECT 1 FROM attachments WHERE conversation_id = $1', [c])).length === 0, 30_000, 100);
    const history = (await bob.ok('history', { conversationId: c })).messages.find((m) => m.seq === sent.seq);
    expect(history).toEqual(expect.objectContaining({ deleted: true, body: '' }));
    expect(history?.attachments).toBeUndefined();
    expect(await bob.request('attachment:url', { conversationId: c, attachmentId: one.attachmentId })).toEqual(refused('NOT_FOUND'));
  });

  it('SDK: upload() reports progress, send() carries the attachment into the own event, attachmentUrl() downloads it', async () => {
    const bob = await sys().connect('bob');
    const chat = new ChatClient({ url: sys().app.url, token: () => tokenFor('alice'), requestTimeoutMs: 5_000 });
    try {
      const events: ChatEvent[] = [];
      chat.on('event', (e) => events.push(e));
      chat.connect();
      await chat.ready();
      const { conversation } = await chat.request('conversation:create', { type: 'group', members: ['bob'] });
      const bytes = new TextEncoder().encode('hello, file');
      const progress: Array<[number, number]> = [];
      const file = new Blob([bytes], { type: 'text/plain' }) as Blob & { name: string };
      Object.defineProperty(file, 'name', { value: 'hello.txt' });
      const attachment = await chat.upload(conversation.id, file, { onProgress: (sent, total) => progress.push([sent, total]) });
      expect(attachment).toEqual({ id: expect.any(String), name: 'hello.txt', contentType: 'text/plain', size: bytes.length });
      expect(progress[0]).toEqual([0, bytes.length]);
      expect(progress.at(-1)).toEqual([bytes.length, bytes.length]);
      const sent = await chat.send(conversation.id, '', { attachments: [attachment] });
      const own = await waitFor('the own event', () => events.find((e) => e.type === 'message' && e.conversationId === conversation.id && e.seq === sent.seq) as Message | undefined);
      expect(own.attachments).toEqual([attachment]);
      const live = await waitFor('bob\'s copy', () => bob.messages().find((m) => m.conversationId === conversation.id && m.seq === sent.seq));
      expect(live.attachments).toEqual(own.attachments);
      const got = await fetch(await chat.attachmentUrl(conversation.id, attachment.id));
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
      // Refused by the server: the code; refused by S3 (here a bucket that does not exist; s3rver checks no V4 signatures): an UploadError.
      await expect(chat.upload(conversation.id, { name: 'big.bin', type: '', size: MAX + 1, data: new Uint8Array(MAX + 1) })).rejects.toEqual(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
      const grant = await chat.request('attachment:create', { conversationId: conversation.id, name: 'x.bin', contentType: 'application/octet-stream', size: 1 });
      const elsewhere = grant.uploadUrl.replace('/chat/', '/no-such-bucket/');
      await expect(putObject(elsewhere, grant.uploadHeaders, new Uint8Array(1))).rejects.toEqual(expect.objectContaining({ name: 'UploadError', status: 404 }));
    } finally {
      chat.close();
    }
  });

  it('collects an upload never sent once CHAT_ATTACHMENT_UNSENT_AGE has passed, and keeps the sent ones', async () => {
    const alice = await sys().connect('alice');
    const c = await group(alice, ['bob']);
    const unsent = await upload(alice, c, new TextEncoder().encode('forgotten'));
    const kept = await upload(alice, c, new TextEncoder().encode('kept'));
    await alice.ok('message:send', { conversationId: c, clientMsgId: 'kept', body: 'kept', attachments: [kept.attachmentId] });
    expect(await objects.size(key(c, unsent.attachmentId))).toBe(9);
    await waitFor('the unsent upload to be collected', async () => (await objects.size(key(c, unsent.attachmentId))) === undefined, 60_000, 200);
    await waitFor('its row to go', async () => (await query(sys().ns, 'SELECT 1 FROM attachments WHERE id = $1', [unsent.attachmentId])).length === 0, 30_000, 100);
    expect(await objects.size(key(c, kept.attachmentId))).toBe(4);
    expect(await query(sys().ns, 'SELECT sent_seq FROM attachments WHERE id = $1', [kept.attachmentId])).toHaveLength(1);
  });

  it('survives a rebuild from the log: deleted messages\' attachments are queued again and finished harmlessly, sent ones stay', async () => {
    // The archiver's pass lines that deleted some attachment objects.
    const passes = () => (sys().app.output().match(/"attachments":\{"deleted":[1-9]/g) ?? []).length;
    const base = passes();
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const c = await group(alice, ['bob']);
    const gone = await upload(alice, c, new TextEncoder().encode('gone'));
    const stays = await upload(alice, c, new TextEncoder().encode('stays'));
    const deleted = await alice.ok('message:send', { conversationId: c, clientMsgId: 'r-gone', body: 'x', attachments: [gone.attachmentId] });
    const kept = await alice.ok('message:send', { conversationId: c, clientMsgId: 'r-stays', body: 'y', attachments: [stays.attachmentId] });
    await alice.ok('message:delete', { conversationId: c, seq: deleted.seq });
    await waitFor('the deleted message\'s object to go', async () => (await objects.size(key(c, gone.attachmentId))) === undefined, 30_000, 100);
    const once = await waitFor('the pass that deleted it', () => passes() > base && passes(), 30_000, 50);

    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    expect((await fetch(`${sys().app.url}/v1/admin/projections/timeline/rebuild`, { method: 'POST', headers: admin })).status).toBe(202);
    await waitFor('the rebuild to finish', async () => {
      const body = (await (await fetch(`${sys().app.url}/v1/admin/projections`, { headers: admin })).json()) as { projections: Array<{ rebuild?: { state: string } }> };
      const state = body.projections[0]?.rebuild?.state;
      if (state === 'failed') throw new Error(JSON.stringify(body));
      return state === 'done';
    }, 120_000, 100);
    // The replayed deletions are worked off again (their objects are gone already: nothing fails).
    await waitFor('the replayed deletion to be worked off', () => passes() > once, 30_000, 50);
    await waitFor('the queue to empty again', async () => (await query(sys().ns, 'SELECT 1 FROM attachment_deletions')).length === 0, 30_000, 100);
    expect(sys().app.output()).not.toContain('archive pass failed');
    const after = (await bob.ok('history', { conversationId: c })).messages;
    expect(after.find((m) => m.seq === kept.seq)?.attachments).toEqual([{ id: stays.attachmentId, name: 'notes.txt', contentType: 'text/plain', size: 5 }]);
    expect(after.find((m) => m.seq === deleted.seq)).toEqual(expect.objectContaining({ deleted: true }));
    expect(await objects.size(key(c, stays.attachmentId))).toBe(5);
    expect((await bob.ok('attachment:url', { conversationId: c, attachmentId: stays.attachmentId })).url).toContain(stays.attachmentId);
  });
});

describe('attachments behind CHAT_S3_PUBLIC_ENDPOINT', () => {
  // Clients reach the same S3 by another address than the servers (localhost here, 127.0.0.1 for the servers).
  const PUBLIC = SHARED.s3.replace('127.0.0.1', 'localhost');
  const sys = useSystem('attachpub', { ...UNLIMITED, CHAT_S3_PUBLIC_ENDPOINT: PUBLIC });

  it('hands out upload and download URLs on the public address, and checks the upload through the internal one', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'] });
    const grant = await alice.ok('attachment:create', { conversationId: conversation.id, name: 'map.bin', contentType: 'application/octet-stream', size: 6 });
    expect(new URL(grant.uploadUrl).origin).toBe(new URL(PUBLIC).origin);
    expect((await fetch(grant.uploadUrl, { method: 'PUT', headers: grant.uploadHeaders, body: new Uint8Array([1, 2, 3, 4, 5, 6]) })).status).toBe(200);
    await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'map', body: '', attachments: [grant.attachmentId] });
    const link = await bob.ok('attachment:url', { conversationId: conversation.id, attachmentId: grant.attachmentId });
    expect(new URL(link.url).origin).toBe(new URL(PUBLIC).origin);
    expect(new Uint8Array(await (await fetch(link.url)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6]));
  });
});
