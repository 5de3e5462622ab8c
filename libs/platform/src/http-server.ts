import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer, type Server } from 'node:http';

/** Request headers larger than this (all of them, 16 KiB) are answered 431 and the connection closed. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Only this many headers are parsed; the rest are ignored (Node's rule), never stored. */
export const MAX_HEADERS_COUNT = 200;
/**
 * Connections the kernel queues until the process accepts them; Node's default is 511. A
 * reconnect storm opens thousands at once, and a client whose SYN found the queue full
 * tries again only after 1 s, then 3 s, 7 s, 15 s. The kernel caps it at
 * net.core.somaxconn (operations.md).
 */
export const LISTEN_BACKLOG = 8192;

/**
 * Express with explicit HTTP limits instead of whatever the Node version defaults to: a
 * request that sends thousands of headers or one huge header gets 431, and a client that
 * trickles its headers (slowloris) is cut off after `headersTimeoutMs`. Node checks these
 * timeouts every `connectionsCheckingInterval` (30 s by default): once a second here, so
 * that the timeout is what it says. Upgraded websockets are past these limits.
 */
export class HardenedExpressAdapter extends ExpressAdapter {
  constructor(private readonly headersTimeoutMs: number) {
    super();
  }

  override initHttpServer(options: Parameters<ExpressAdapter['initHttpServer']>[0]): void {
    if (options?.httpsOptions) return super.initHttpServer(options);
    const server = createServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout: this.headersTimeoutMs,
        requestTimeout: Math.max(30_000, this.headersTimeoutMs),
        connectionsCheckingInterval: Math.min(1_000, this.headersTimeoutMs),
      },
      this.getInstance(),
    );
    server.maxHeadersCount = MAX_HEADERS_COUNT;
    this.httpServer = server;
    if (options?.forceCloseConnections) (this as unknown as { trackOpenConnections(): void }).trackOpenConnections();
  }

  override listen(port: string | number, callback?: () => void): Server;
  override listen(port: string | number, hostname: string, callback?: () => void): Server;
  override listen(port: string | number, ...args: unknown[]): Server {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const host = typeof args[0] === 'string' ? args[0] : undefined;
    return (this.httpServer as Server).listen({ port: Number(port), ...(host !== undefined && { host }), backlog: LISTEN_BACKLOG }, callback);
  }
}
