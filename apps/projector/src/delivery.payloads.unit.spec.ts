import type { ChatEvent } from '@chat/contracts';
import { DeliveryPayloads, type Outgoing } from './delivery.payloads';
import type { Delivery } from './timeline.projection';

const message = (seq: number, body: string, conversationId = 'd_1'): ChatEvent => ({
  type: 'message', conversationId, seq, senderId: 'ann', clientMsgId: `c${seq}`, body, sentAt: '2026-01-01T00:00:00.000Z',
});
const delivery = (event: ChatEvent, recipients: string[], extra: Partial<Delivery> = {}): Delivery => ({ event, recipients, room: false, ...extra });
const items = (m: Outgoing) => (JSON.parse(m.data) as { items: Array<{ event: ChatEvent; users?: string[]; join?: true; origin?: string }> }).items;

describe('DeliveryPayloads', () => {
  it('puts a burst of 250 messages of 16 KiB to one node into messages under half the server limit, all of them, in order', () => {
    const out = new DeliveryPayloads(1024 * 1024);
    const body = 'x'.repeat(16 * 1024);
    for (let seq = 1; seq <= 250; seq++) out.addToNodes(delivery(message(seq, body), ['bob']), new Map([['gw1', ['bob']]]), false);
    const sent = out.nodes.take();
    expect(sent.length).toBeGreaterThan(1);
    for (const m of sent) expect(Buffer.byteLength(m.data)).toBeLessThanOrEqual(512 * 1024);
    expect(sent.flatMap(items).map((i) => i.event.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(out.nodes.take()).toEqual([]);
  });

  it('splits an item that is too large with all its users into items with some of them', () => {
    const out = new DeliveryPayloads(64 * 1024);
    const users = Array.from({ length: 5_000 }, (_, i) => `user-number-${i}`);
    out.addToNodes(delivery(message(7, 'hi'), users, { origin: 'gw1/s1' }), new Map([['gw1', users]]), true);
    const sent = out.nodes.take();
    expect(sent.length).toBeGreaterThan(1);
    for (const m of sent) expect(Buffer.byteLength(m.data)).toBeLessThanOrEqual(32 * 1024);
    const all = sent.flatMap(items);
    expect(all.flatMap((i) => i.users)).toEqual(users);
    for (const i of all) expect(i).toMatchObject({ event: { seq: 7 }, join: true, origin: 'gw1/s1' });
  });

  it('encodes one message per node and per room, and tells which conversations wait on each path', () => {
    const out = new DeliveryPayloads(1024 * 1024);
    out.addToNodes(delivery(message(1, 'a'), ['bob', 'cy']), new Map([['gw1', ['bob']], ['gw2', ['cy']]]), false);
    out.addToRoom(delivery(message(2, 'b', 'g_big'), [], { room: true }));
    expect(out.nodes.conversations.has('d_1')).toBe(true);
    expect(out.rooms.conversations.has('g_big')).toBe(true);
    const nodes = out.nodes.take();
    expect(nodes.map((m) => ('node' in m ? m.node : '')).sort()).toEqual(['gw1', 'gw2']);
    expect(nodes.flatMap(items).map((i) => i.users)).toEqual([['bob'], ['cy']]);
    expect(out.nodes.conversations.size).toBe(0);
    expect(out.rooms.take()).toEqual([{ room: 'g_big', data: JSON.stringify({ items: [{ event: message(2, 'b', 'g_big') }] }) }]);
  });
});
