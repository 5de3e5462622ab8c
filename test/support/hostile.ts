import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { footprint } from './inspect';
import type { TestClient } from './clients';
import type { TestSystem } from './system';
import { waitFor } from './wait';

/** A raw Engine.IO websocket, speaking packets as text, for what socket.io-client will not send. */
export interface RawSocket {
  ws: WebSocket;
  received: string[];
  /** The close code once the server has closed it. */
  closed(): number | undefined;
  send(packet: string | Buffer): void;
  /** The ack `43<id>[...]` for an event sent with ack id `id`. */
  ack(id: number, timeoutMs?: number): Promise<unknown>;
  close(): void;
}

export async function rawSocket(url: string, token?: string): Promise<RawSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const received: string[] = [];
  let code: number | undefined;
  ws.on('message', (m) => {
    const text = String(m);
    // Answer the server's heartbeat like a real client.
    if (text === '2') ws.send('3');
    received.push(text);
  });
  ws.on('close', (c) => (code = c));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (token !== undefined) {
    ws.send(`40${JSON.stringify({ token })}`);
    await waitFor('the Socket.IO connect packet', () => received.some((m) => m.startsWith('40')), 10_000);
  }
  return {
    ws,
    received,
    closed: () => code,
    send: (packet) => ws.send(packet),
    ack: async (id, timeoutMs = 10_000) => {
      const text = await waitFor(`ack ${id}`, () => received.find((m) => m.startsWith(`43${id}[`)), timeoutMs);
      return (JSON.parse(text.slice(`43${id}`.length)) as unknown[])[0];
    },
    close: () => ws.terminate(),
  };
}

/** Writes raw bytes to the server over TCP; resolves with what came back once the server closed. */
export function rawHttp(url: string, request: string | Buffer, opts: { timeoutMs?: number; trickle?: () => string | undefined } = {}): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), '127.0.0.1');
    let answer = '';
    let trickler: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${opts.timeoutMs ?? 10_000} ms (got ${JSON.stringify(answer.slice(0, 200))})`));
    }, opts.timeoutMs ?? 10_000);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      clearInterval(trickler);
      resolve(answer);
    });
    socket.write(request);
    if (opts.trickle) {
      trickler = setInterval(() => {
        const more = opts.trickle!();
        if (more !== undefined && !socket.destroyed) socket.write(more);
      }, 100);
    }
  });
}

/** The process's resident memory, from its own /metrics (prom-client's default metrics). */
export async function residentBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('chat_process_resident_memory_bytes '));
  if (!line) throw new Error('no chat_process_resident_memory_bytes in /metrics');
  return Number(line.split(' ')[1]);
}

/** How much RSS may grow over one attack: far below what any attack here would pile up if unbounded. */
export const RSS_GROWTH_BOUND = 96 * 1024 * 1024;

/**
 * Runs an attack while two well-behaved users keep talking: round after round, `alice`
 * gets an ack and `bob` a delivery (typing, relayed through NATS and written nowhere, so
 * the footprint stays comparable). Afterwards: the process is ready, its memory grew by
 * less than RSS_GROWTH_BOUND, every round finished within `roundMs`, and nothing was
 * written to the streams or the read model.
 */
export async function underAttack<T>(
  sys: TestSystem,
  bystanders: { alice: TestClient; bob: TestClient; conversationId: string },
  attack: () => Promise<T>,
  roundMs = 5_000,
): Promise<T> {
  const { alice, bob, conversationId } = bystanders;
  const before = await footprint(sys.ns);
  const rssBefore = await residentBytes(sys.app.url);
  let attacking = true;
  let rounds = 0;
  const probe = (async () => {
    while (attacking || rounds < 3) {
      const seen = bob.typing.length;
      const ack = await alice.request('typing', { conversationId, state: 'stop' }, roundMs);
      if (!ack.ok) throw new Error(`the bystander's typing was refused: ${ack.error.code}`);
      await waitFor('the bystander delivery', () => bob.typing.length > seen, roundMs, 5);
      rounds++;
      // The bystander's own pace (at most 50 events/s), well within its rate budget of 100/s.
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let result: T;
  try {
    result = await attack();
  } finally {
    attacking = false;
    await probe.catch(() => undefined);
  }
  await probe;
  expect((await fetch(`${sys.app.url}/readyz`)).status).toBe(200);
  const grown = (await residentBytes(sys.app.url)) - rssBefore;
  expect(grown).toBeLessThan(RSS_GROWTH_BOUND);
  expect(await footprint(sys.ns)).toEqual(before);
  return result;
}
