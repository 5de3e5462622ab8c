import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ChatEvent } from '@chat/contracts';
import type { RouteTable } from '@chat/connections';
import { Names } from '@chat/messaging';
import { DeliveryRouter } from './delivery.router';
import type { Delivery } from './timeline.projection';

const names = new Names('t', 1);
const event = (seq: number, conversationId: string): ChatEvent => ({
  type: 'message', conversationId, seq, senderId: 'ann', clientMsgId: `c${seq}`, body: 'b', sentAt: '2026-01-01T00:00:00.000Z',
});

function setUp(routesFail = 0) {
  const published: Array<{ subject: string; seqs: number[]; joins: number[] }> = [];
  const nc = {
    info: { max_payload: 1024 * 1024 },
    publish: (subject: string, data: string) => {
      const items = (JSON.parse(data) as { items: Array<{ event: { seq: number }; join?: true }> }).items;
      published.push({ subject, seqs: items.map((i) => i.event.seq), joins: items.filter((i) => i.join).map((i) => i.event.seq) });
    },
  } as unknown as NatsConnection;
  let failures = routesFail;
  const routes = {
    refresh: async () => {
      if (failures-- > 0) throw new Error('redis down');
    },
    nodesOf: async (users: Iterable<string>) => new Map([['gw1', [...new Set(users)]]]),
  } as unknown as RouteTable;
  const log = { error: jest.fn() } as unknown as Logger;
  return { router: new DeliveryRouter(nc, names, routes, log), published, log };
}

describe('DeliveryRouter', () => {
  it('keeps a conversation in order as it moves from the node path to its room: the join first, then the room', async () => {
    const { router, published } = setUp();
    const d: Delivery[] = [
      { event: event(1, 'g_1'), recipients: ['bob'], room: false },
      { event: event(2, 'g_1'), recipients: ['bob', 'cy'], room: true, joiners: ['bob', 'cy'] },
      { event: event(3, 'g_1'), recipients: ['bob', 'cy'], room: true },
    ];
    router.enqueue(d);
    await router.idle();
    expect(published).toEqual([
      { subject: names.nodeDelivery('gw1'), seqs: [1, 2], joins: [2] },
      { subject: names.room('g_1'), seqs: [2, 3], joins: [] },
    ]);
  });

  it('publishes what waits for a room before the conversation\'s next event on the node path', async () => {
    const { router, published } = setUp();
    router.enqueue([
      { event: event(5, 'g_2'), recipients: ['bob'], room: false },
      { event: event(6, 'g_1'), recipients: ['bob'], room: true },
      { event: event(7, 'g_1'), recipients: ['bob'], room: false },
    ]);
    await router.idle();
    expect(published).toEqual([
      { subject: names.room('g_1'), seqs: [6], joins: [] },
      { subject: names.nodeDelivery('gw1'), seqs: [5, 7], joins: [] },
    ]);
  });

  it('retries a round while the route table cannot be refreshed, then delivers it', async () => {
    const { router, published, log } = setUp(2);
    router.enqueue([{ event: event(9, 'd_1'), recipients: ['bob'], room: false }]);
    await router.idle();
    expect(published).toEqual([{ subject: names.nodeDelivery('gw1'), seqs: [9], joins: [] }]);
    expect(log.error).not.toHaveBeenCalled();
  });
});
