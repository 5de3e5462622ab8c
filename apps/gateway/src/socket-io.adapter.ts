import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { IncomingMessage } from 'node:http';
import type { Server, ServerOptions } from 'socket.io';

/** Large enough for a 1000-member list or a 16 KiB body escaped; anything bigger is refused by Engine.IO. */
export const MAX_HTTP_BUFFER_SIZE = 256 * 1024;

/**
 * Browser origins allowed to open a socket: exactly those listed (`trustedOrigins`), and
 * requests without an Origin header (native apps and servers, which are not browsers).
 * Never compared with the request's Host: a page on a rebound DNS name sends a Host and an
 * Origin of its own choosing that agree.
 */
export function originAllowed(req: IncomingMessage, trusted: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  return trusted.has(origin);
}

/** Socket.IO with the settings the protocol relies on, applied to both transports. */
export class ChatSocketAdapter extends IoAdapter {
  private readonly trusted: ReadonlySet<string>;

  /**
   * `trusted`: every origin that may open a socket (`trustedOrigins(config)`); `cors`: those
   * of them on other sites than the server's, granted CORS (CHAT_ALLOWED_ORIGINS).
   */
  constructor(
    app: INestApplicationContext,
    trusted: readonly string[],
    private readonly cors: readonly string[],
  ) {
    super(app);
    this.trusted = new Set(trusted);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
      // Compression costs CPU per message and memory per socket; chat payloads are small.
      perMessageDeflate: false,
      httpCompression: false,
      cors: { origin: this.cors.length ? [...this.cors] : false, credentials: true },
      allowRequest: (req, callback) => {
        const ok = originAllowed(req, this.trusted);
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
