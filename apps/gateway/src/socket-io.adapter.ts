import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { IncomingMessage } from 'node:http';
import type { Server, ServerOptions } from 'socket.io';

/** Large enough for a 1000-member list or a 16 KiB body escaped; anything bigger is refused by Engine.IO. */
export const MAX_HTTP_BUFFER_SIZE = 256 * 1024;

/**
 * Browser origins allowed to open a socket: the listed ones, the server's own origin, and
 * requests without an Origin header (native apps and servers, which are not browsers).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Socket.IO with the settings the protocol relies on, applied to both transports. */
export class ChatSocketAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly allowedOrigins: readonly string[],
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
      // Compression costs CPU per message and memory per socket; chat payloads are small.
      perMessageDeflate: false,
      httpCompression: false,
      cors: { origin: this.allowedOrigins.length ? [...this.allowedOrigins] : false, credentials: true },
      allowRequest: (req, callback) => {
        const ok = originAllowed(req, this.allowedOrigins);
        callback(ok ? null : 'origin not allowed', ok);
      },
    } as ServerOptions);
  }

  /**
   * The gateway has no @SubscribeMessage handlers: it dispatches every event from one
   * onAny table (chat.gateway.ts). Nest would still build an rxjs pipeline per socket
   * here (fromEvent + share + first on 'disconnect'), kept for the socket's life: about
   * 3 KiB of heap per idle connection for nothing.
   */
  override bindMessageHandlers(): void {
    // nothing to bind
  }
}
