import type { Socket } from 'socket.io';
import { BUFFER_RETRY_MS, WorkLimits, type WorkSettings } from './connection.work';
import { waitingBytes, watchHardCap } from './local-connections';

const settings: WorkSettings = { maxQueries: 4, softBytes: 1_000, hardBytes: 5_000, graceMs: 2_000 };

describe('WorkLimits: queries in flight per connection', () => {
  it('admits maxQueries at once and answers the next with a retry hint, until one is done', () => {
    const limits = new WorkLimits(settings);
    const work = limits.forConnection();
    expect([1, 2, 3, 4].map(() => limits.admit(work, 0))).toEqual([0, 0, 0, 0]);
    const later = limits.admit(work, 0);
    expect(later).toBeGreaterThan(0);
    expect(work.queries).toBe(4);
    limits.done(work, 10);
    expect(limits.admit(work, 0)).toBe(0);
    expect(limits.admit(work, 0)).toBeGreaterThan(0);
  });

  it('counts each connection on its own', () => {
    const limits = new WorkLimits({ ...settings, maxQueries: 1 });
    const a = limits.forConnection();
    const b = limits.forConnection();
    expect(limits.admit(a, 0)).toBe(0);
    expect(limits.admit(a, 0)).toBeGreaterThan(0);
    expect(limits.admit(b, 0)).toBe(0);
  });

  it('refuses any query while more than softBytes wait to be written, whatever slots are free', () => {
    const limits = new WorkLimits(settings);
    const work = limits.forConnection();
    expect(limits.admit(work, 1_001)).toBe(BUFFER_RETRY_MS);
    expect(work.queries).toBe(0);
    expect(limits.admit(work, 1_000)).toBe(0);
  });

  it('hints a retry after about the time queries take, within bounds', () => {
    const limits = new WorkLimits({ ...settings, maxQueries: 1 });
    const work = limits.forConnection();
    for (let i = 0; i < 50; i++) {
      limits.admit(work, 0);
      limits.done(work, 400);
    }
    limits.admit(work, 0);
    expect(limits.admit(work, 0)).toBeGreaterThan(300);
    limits.done(work, 400);
    for (let i = 0; i < 100; i++) {
      limits.admit(work, 0);
      limits.done(work, 0);
    }
    limits.admit(work, 0);
    expect(limits.admit(work, 0)).toBeGreaterThanOrEqual(25);
  });
});

/** A socket as Engine.IO and ws show its outgoing side; `flush` hands the buffer on like Engine.IO does. */
function fakeSocket(limits = new WorkLimits(settings)) {
  const ws = { bufferedAmount: 0 };
  const conn = { writeBuffer: [] as Array<{ data: unknown }>, transport: { socket: ws }, close: jest.fn() };
  const socket = { connected: true, conn, data: { work: limits.forConnection() } } as unknown as Socket;
  return {
    socket,
    conn,
    ws,
    write: (data: unknown) => conn.writeBuffer.push({ data }),
    flush: () => {
      for (const p of conn.writeBuffer) ws.bufferedAmount += typeof p.data === 'string' ? p.data.length : 0;
      conn.writeBuffer = [];
    },
  };
}

describe('waitingBytes', () => {
  it('adds the packets Engine.IO holds to what ws has not written yet, across flushes', () => {
    const s = fakeSocket();
    expect(waitingBytes(s.socket)).toBe(0);
    s.write('x'.repeat(100));
    s.write(Buffer.alloc(50));
    expect(waitingBytes(s.socket)).toBe(150);
    s.write('y'.repeat(10));
    expect(waitingBytes(s.socket)).toBe(160);
    s.flush();
    expect(waitingBytes(s.socket)).toBe(110);
    s.write('z'.repeat(5));
    expect(waitingBytes(s.socket)).toBe(115);
    s.ws.bufferedAmount = 0;
    expect(waitingBytes(s.socket)).toBe(5);
  });

  it('counts from scratch when the buffer was emptied in place', () => {
    const s = fakeSocket();
    s.write('x'.repeat(100));
    s.write('x'.repeat(100));
    expect(waitingBytes(s.socket)).toBe(200);
    s.conn.writeBuffer.length = 0;
    s.write('x'.repeat(7));
    expect(waitingBytes(s.socket)).toBe(7);
  });
});

describe('watchHardCap', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('closes the transport of a socket still over hardBytes graceMs after it was seen over', () => {
    const s = fakeSocket();
    s.write('x'.repeat(6_000));
    watchHardCap(s.socket);
    jest.advanceTimersByTime(1_999);
    expect(s.conn.close).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(s.conn.close).toHaveBeenCalledTimes(1);
  });

  it('leaves a socket that got back under the cap within the grace, and watches it again later', () => {
    const s = fakeSocket();
    s.write('x'.repeat(6_000));
    watchHardCap(s.socket);
    // The client read: the buffer went to ws, and ws wrote most of it.
    s.flush();
    s.ws.bufferedAmount = 100;
    jest.advanceTimersByTime(2_000);
    expect(s.conn.close).not.toHaveBeenCalled();
    s.write('x'.repeat(6_000));
    watchHardCap(s.socket);
    jest.advanceTimersByTime(2_000);
    expect(s.conn.close).toHaveBeenCalledTimes(1);
  });

  it('does nothing for a socket under the cap or with nothing in the buffer', () => {
    const s = fakeSocket();
    s.write('x'.repeat(4_000));
    watchHardCap(s.socket);
    s.flush();
    s.ws.bufferedAmount = 10_000;
    watchHardCap(s.socket);
    jest.advanceTimersByTime(10_000);
    expect(s.conn.close).not.toHaveBeenCalled();
  });
});
