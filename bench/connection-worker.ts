/**
 * One load process of the connections benchmark: opens `BENCH_CONNECTIONS` authenticated,
 * idle Socket.IO connections to `BENCH_URL` (at most a few thousand per process, well
 * under the 20,000 open files a process may hold), reports progress as JSON lines, and
 * holds them until its stdin closes.
 */
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';

const url = process.env.BENCH_URL!;
const count = Number(process.env.BENCH_CONNECTIONS);
const prefix = process.env.BENCH_PREFIX ?? 'u';
const key = new TextEncoder().encode(process.env.CHAT_JWT_SECRET ?? '');
const report = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const sockets: Socket[] = [];
  let connected = 0;
  let failed = 0;
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, async (_, k) => {
        const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`${prefix}${i + k}`).setExpirationTime('2h').sign(key);
        const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(socket);
        await new Promise<void>((resolve) => {
          socket.once('connect', () => (connected++, resolve()));
          socket.once('connect_error', () => (failed++, resolve()));
        });
      }),
    );
    report({ connected, failed });
  }
  report({ connected, failed, done: true });
  process.stdin.on('end', () => {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  });
  process.stdin.resume();
}

void main();
