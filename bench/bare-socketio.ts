/**
 * The ceiling of the benchmark's connection and relay figures: a bare Socket.IO server
 * with the gateway's transport settings and nothing else (no auth, no registry, no log,
 * no projection), on `PORT`. `join` puts the socket in a room; `relay` forwards the
 * payload to the room's other sockets and acks, as the gateway acks a send.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const server = new Server(http, { perMessageDeflate: false, httpCompression: false, maxHttpBufferSize: 256 * 1024 });
server.on('connection', (socket) => {
  socket.on('join', (room: string, ack: (r: unknown) => void) => {
    void socket.join(room);
    ack({ ok: true });
  });
  socket.on('relay', (p: { room: string }, ack: (r: unknown) => void) => {
    socket.to(p.room).emit('relay', p);
    ack({ ok: true });
  });
});
http.on('request', (req, res) => {
  if (req.url === '/readyz') res.writeHead(200).end('ok');
});
http.listen(Number(process.env.PORT), '127.0.0.1');
