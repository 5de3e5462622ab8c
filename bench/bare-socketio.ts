/**
 * The ceiling of the connections benchmark: a bare Socket.IO server with the gateway's
 * transport settings and nothing else (no auth, no registry, no rooms), on `PORT`.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const server = new Server(http, { perMessageDeflate: false, httpCompression: false, maxHttpBufferSize: 256 * 1024 });
server.on('connection', (socket) => socket.on('relay', (p: unknown) => socket.broadcast.emit('relay', p)));
http.listen(Number(process.env.PORT), () => process.stdout.write('listening\n'));
