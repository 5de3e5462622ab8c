import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { ChatEvent } from '@chat/contracts';
import { Names, type DeliveryBatch, type RoomBatch } from '@chat/messaging';
import type { ReadModelRepository } from '@chat/storage';
import type { ConversationCache } from '@chat/commands';
import { LocalConnections } from './local-connections';
import { NodeDelivery } from './node.delivery';

const names = new Names('t', 1);
const message = (seq: number): ChatEvent => ({ type: 'message', conversationId: 'g_big', seq, senderId: 'ann', clientMsgId: `c${seq}`, body: 'b', sentAt: '2026-01-01T00:00:00.000Z' });

/** A NATS whose subscriptions take effect only once the test flushes them, as a busy server's may. */
function fakeNats() {
  const subs = new Map<string, { live: boolean; callback: (err: unknown, msg: { json: <T>() => T }) => void }>();
  const waiting: Array<() => void> = [];
  const nc = {
    subscribe: (subject: string, opts: { callback: (err: unknown, msg: { json: <T>() => T }) => void }) => {
      subs.set(subject, { live: false, callback: opts.callback });
      return { unsubscribe: () => subs.delete(subject) };
    },
    flush: () => new Promise<void>((resolve) => waiting.push(resolve)),
    publish: () => undefined,
  } as unknown as NatsConnection;
  const deliver = (subject: string, data: unknown) => {
    const sub = subs.get(subject);
    if (sub?.live) sub.callback(null, { json: <T>() => JSON.parse(JSON.stringify(data)) as T });
  };
  const flush = () => {
    for (const s of subs.values()) s.live = true;
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { nc, deliver, flush };
}

function socketOf(userId: string, id: string) {
  const got: Array<{ event: string; seq?: number }> = [];
  const socket = { id, data: { caller: { userId } }, conn: { writeBuffer: [] }, emit: (event: string, payload: { seq?: number }) => got.push({ event, seq: payload.seq }) };
  return { socket: socket as unknown as Socket, got };
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error(`not reached: ${what}`);
}

describe('NodeDelivery', () => {
  it('joins a room on a `join` event and reads back, once each and in order, what the room published before its subscription took effect', async () => {
    const nats = fakeNats();
    const local = new LocalConnections();
    const bob = socketOf('bob', 's1');
    local.add('bob', bob.socket);
    const timeline: ChatEvent[] = [message(11), message(12)];
    const readModel = { timelineAfter: async (_c: string, after: number) => timeline.filter((e) => e.seq > after) } as unknown as ReadModelRepository;
    const delivery = new NodeDelivery(nats.nc, names, 'gw1', local, { invalidate: () => undefined } as unknown as ConversationCache, readModel, { error: jest.fn(), warn: jest.fn() } as unknown as Logger);
    delivery.start();
    nats.flush();

    // Bob was added at seq 10; the room's next events go out before his node's subscription is in place.
    const joined: DeliveryBatch = { items: [{ event: { ...message(10), type: 'conversation', change: 'members_added', userIds: ['bob'] } as unknown as ChatEvent, users: ['bob'], join: true }] };
    nats.deliver(names.nodeDelivery('gw1'), joined);
    const room: RoomBatch = { items: [{ event: message(11) }] };
    nats.deliver(names.room('g_big'), room);
    // The subscription takes effect; seq 12 comes through it as well as from the timeline, then 13.
    nats.flush();
    nats.deliver(names.room('g_big'), { items: [{ event: message(12) }] } satisfies RoomBatch);
    await until('the read-back', () => bob.got.length >= 3);
    nats.deliver(names.room('g_big'), { items: [{ event: message(13) }] } satisfies RoomBatch);
    expect(bob.got).toEqual([{ event: 'conversation', seq: 10 }, { event: 'message', seq: 11 }, { event: 'message', seq: 12 }, { event: 'message', seq: 13 }]);
    expect(delivery.roomNames()).toEqual(['g_big']);
  });

  it('does not give a socket the room\'s events from before it joined', async () => {
    const nats = fakeNats();
    const local = new LocalConnections();
    const amy = socketOf('amy', 's1');
    const bob = socketOf('bob', 's2');
    local.add('amy', amy.socket);
    local.add('bob', bob.socket);
    const readModel = { timelineAfter: async () => [] } as unknown as ReadModelRepository;
    const delivery = new NodeDelivery(nats.nc, names, 'gw1', local, { invalidate: () => undefined } as unknown as ConversationCache, readModel, { error: jest.fn(), warn: jest.fn() } as unknown as Logger);
    delivery.start();
    const joining = delivery.joinRoom('g_big', [amy.socket]);
    nats.flush();
    await joining;
    // Bob joins at 20 while the room's event 19 is still on its way to this node.
    nats.deliver(names.nodeDelivery('gw1'), { items: [{ event: { ...message(20), type: 'conversation', change: 'members_added', userIds: ['bob'] } as unknown as ChatEvent, users: ['bob'], join: true }] } satisfies DeliveryBatch);
    nats.deliver(names.room('g_big'), { items: [{ event: message(19) }, { event: message(21) }] } satisfies RoomBatch);
    expect(amy.got.map((g) => g.seq)).toEqual([19, 21]);
    expect(bob.got.map((g) => g.seq)).toEqual([20, 21]);
  });
});
