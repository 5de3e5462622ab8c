/**
 * The naive baseline of the benchmark: a chat server as one would first write it. The
 * bare relay's Socket.IO server (bench/bare-socketio.ts, same transport settings, same
 * `join` and `relay` events), except that each `relay` first awaits one Postgres INSERT
 * of the message (autocommit, a pool of 10) into `naive_messages` of the database at
 * `BENCH_DATABASE_URL`, then relays it to the room and acks. A failed INSERT is refused
 * with UNAVAILABLE and relays nothing.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { Server } from 'socket.io';

const db = new Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: 10 });
db.on('error', () => undefined);

async function main(): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS naive_messages (
    id bigserial PRIMARY KEY, room text NOT NULL, sender_id text NOT NULL, body text NOT NULL, sent_at timestamptz NOT NULL DEFAULT now())`);
  await db.query('CREATE INDEX IF NOT EXISTS naive_messages_room ON naive_messages (room, id)');
  const http = createServer();
  const server = new Server(http, { perMessageDeflate: false, httpCompression: false, maxHttpBufferSize: 256 * 1024 });
  server.on('connection', (socket) => {
    socket.on('join', (room: string, ack: (r: unknown) => void) => {
      void socket.join(room);
      ack({ ok: true });
    });
    socket.on('relay', (p: { room: string; senderId: string; body: string }, ack: (r: unknown) => void) => {
      db.query('INSERT INTO naive_messages (room, sender_id, body) VALUES ($1, $2, $3)', [p.room, p.senderId, p.body]).then(
        () => {
          socket.to(p.room).emit('relay', p);
          ack({ ok: true });
        },
        () => ack({ ok: false, error: { code: 'UNAVAILABLE' } }),
      );
    });
  });
  http.on('request', (req, res) => {
    if (req.url === '/readyz') res.writeHead(200).end('ok');
  });
  http.listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((err: Error) => {
  process.stderr.write(`naive server: ${err.message}\n`);
  process.exit(1);
});
