import type { Message } from '@chat/contracts';
import { waitForEvents } from '../support/clients';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

describe('live delivery', () => {
  const sys = useSystem('delivery');

  it('delivers 200 pipelined messages once, in seq order, to every other device, matching their acks', async () => {
    const alice1 = await sys().connect('alice', { deviceId: 'phone' });
    const alice2 = await sys().connect('alice', { deviceId: 'laptop' });
    const bob = await sys().connect('bob');
    const { conversation } = await alice1.ok('conversation:create', { type: 'direct', members: ['bob'] });

    // Fire all 200 without waiting for any ack.
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        alice1.ok('message:send', { conversationId: conversation.id, clientMsgId: `m-${i}`, body: `message ${i}` }),
      ),
    );
    const ackedSeqByClientId = new Map(acks.map((a, i) => [`m-${i}`, a.seq]));
    expect(new Set(acks.map((a) => a.seq)).size).toBe(200);
    expect(acks.every((a) => a.duplicate === undefined)).toBe(true);

    for (const device of [alice2, bob]) {
      const got = (await waitForEvents(device, 200, (e) => e.type === 'message')) as Message[];
      const seqs = got.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      for (const m of got) {
        expect(m.conversationId).toBe(conversation.id);
        expect(m.senderId).toBe('alice');
        expect(m.seq).toBe(ackedSeqByClientId.get(m.clientMsgId));
        expect(m.body).toBe(`message ${m.clientMsgId.slice(2)}`);
      }
    }
    // Delivery keeps seq order per conversation, so once a later message has arrived, any
    // second copy of the 200 would have arrived before it: now the counts are final.
    const last = await alice1.ok('message:send', { conversationId: conversation.id, clientMsgId: 'sentinel', body: 'end' });
    for (const device of [alice2, bob]) {
      await waitForEvents(device, 1, (e) => e.type === 'message' && e.seq === last.seq);
      const of200 = device.messages().filter((m) => m.clientMsgId !== 'sentinel');
      expect(of200).toHaveLength(200);
      expect(new Set(of200.map((m) => m.seq)).size).toBe(200);
    }
    // The sending device has the acks; it is not sent copies of its own messages.
    expect(alice1.messages()).toHaveLength(0);
  });

  it('tells every member about a new conversation and reaches the sender\'s other devices', async () => {
    const carol1 = await sys().connect('carol', { deviceId: 'a' });
    const carol2 = await sys().connect('carol', { deviceId: 'b' });
    const dave = await sys().connect('dave');
    const erin = await sys().connect('erin');
    const { conversation } = await carol1.ok('conversation:create', { type: 'group', members: ['dave', 'erin'], title: 'trip' });
    expect(conversation).toMatchObject({ type: 'group', title: 'trip', createdBy: 'carol' });
    expect([...conversation.members].sort()).toEqual(['carol', 'dave', 'erin']);
    for (const c of [carol2, dave, erin]) {
      const [created] = await waitForEvents(c, 1, (e) => e.type === 'conversation');
      expect(created).toMatchObject({ type: 'conversation', conversationId: conversation.id, change: 'created', seq: conversation.lastSeq });
    }
    const sent = await dave.ok('message:send', { conversationId: conversation.id, clientMsgId: 'hi', body: 'hi all' });
    for (const c of [carol1, carol2, erin]) {
      const [m] = await waitForEvents(c, 1, (e) => e.type === 'message');
      expect(m).toMatchObject({ seq: sent.seq, body: 'hi all', senderId: 'dave', sentAt: sent.sentAt });
    }
  });

  it('maps a direct pair to one conversation, whoever creates it', async () => {
    const frank = await sys().connect('frank');
    const gina = await sys().connect('gina');
    const a = await frank.ok('conversation:create', { type: 'direct', members: ['gina'] });
    const b = await gina.ok('conversation:create', { type: 'direct', members: ['frank'] });
    const c = await frank.ok('conversation:create', { type: 'direct', members: ['gina', 'frank'] });
    expect(b.conversation.id).toBe(a.conversation.id);
    expect(c.conversation.id).toBe(a.conversation.id);
    const list = await frank.ok('conversation:list', {});
    expect(list.conversations.filter((x) => x.id === a.conversation.id)).toHaveLength(1);
  });
});

describe('live delivery under a burst of large messages', () => {
  // One partition: the burst and the quiet pair share the projector's batches.
  const sys = useSystem('burst', { CHAT_PARTITIONS: '1' });

  it('delivers 250 messages of 16 KiB sent at once live, and the messages of an unrelated pair beside them', async () => {
    const heavy = await sys().connect('heavy');
    const partner = await sys().connect('partner');
    const quietA = await sys().connect('quiet-a');
    const quietB = await sys().connect('quiet-b');
    const { conversation: burst } = await heavy.ok('conversation:create', { type: 'direct', members: ['partner'] });
    const { conversation: quiet } = await quietA.ok('conversation:create', { type: 'direct', members: ['quiet-b'] });

    const body = 'x'.repeat(16 * 1024 - 8);
    const sends = Array.from({ length: 250 }, (_, i) => heavy.ok('message:send', { conversationId: burst.id, clientMsgId: `big-${i}`, body: `${String(i).padStart(7, '0')} ${body}` }));
    const quietSends = Array.from({ length: 20 }, (_, i) => quietA.ok('message:send', { conversationId: quiet.id, clientMsgId: `q-${i}`, body: `q${i}` }));
    const acks = await Promise.all(sends);
    const quietAcks = await Promise.all(quietSends);

    const big = await waitForEvents(partner, 250, (e) => e.type === 'message' && e.conversationId === burst.id);
    expect(big.map((m) => m.seq)).toEqual(acks.map((a) => a.seq).sort((a, b) => a - b));
    const small = await waitForEvents(quietB, 20, (e) => e.type === 'message' && e.conversationId === quiet.id);
    expect(small.map((m) => m.seq)).toEqual(quietAcks.map((a) => a.seq).sort((a, b) => a - b));
  });
});
