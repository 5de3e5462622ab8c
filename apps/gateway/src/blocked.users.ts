import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { BlockNotice, Names } from '@chat/messaging';
import type { BlockRepository } from '@chat/storage';
import type { LocalConnections } from './local-connections';

/**
 * How often the list is read again from Postgres: a notice is core NATS (at most once), so
 * a gateway cut off from NATS when it was sent learns of the block this much later at worst.
 */
export const BLOCKS_RELOAD_MS = 30_000;

/**
 * The users the operator blocked, in memory on every gateway: every connect is checked
 * against it (no round trip), and a block closes the user's sockets here at once. Loaded
 * at start after subscribing to the notices (so none is missed in between), kept current
 * from them, and read again every BLOCKS_RELOAD_MS.
 */
export class BlockedUsers {
  private blocked = new Set<string>();
  /** Per reload under way, the users a notice named while it read: the notice is newer than what it read. */
  private readonly reading = new Set<Set<string>>();
  private sub?: Subscription;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly repository: Pick<BlockRepository, 'all'>,
    private readonly local: LocalConnections,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.sub = this.nc.subscribe(this.names.blocks(), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const notice = msg.json<BlockNotice>();
          if (typeof notice?.userId !== 'string') return;
          for (const noticed of this.reading) noticed.add(notice.userId);
          this.apply(notice.userId, notice.blocked === true);
        } catch {
          // Not a notice of ours: ignored.
        }
      },
    });
    await this.nc.flush();
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err: Error) => this.log.warn({ err: err.message }, 'blocked users not read again; will retry')), BLOCKS_RELOAD_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sub?.unsubscribe();
  }

  has(userId: string): boolean {
    return this.blocked.has(userId);
  }

  get size(): number {
    return this.blocked.size;
  }

  private async reload(): Promise<void> {
    const noticed = new Set<string>();
    this.reading.add(noticed);
    try {
      const now = await this.repository.all();
      for (const userId of now) if (!this.blocked.has(userId) && !noticed.has(userId)) this.apply(userId, true);
      for (const userId of this.blocked) if (!now.has(userId) && !noticed.has(userId)) this.apply(userId, false);
    } finally {
      this.reading.delete(noticed);
    }
  }

  private apply(userId: string, blocked: boolean): void {
    if (!blocked) {
      this.blocked.delete(userId);
      return;
    }
    this.blocked.add(userId);
    const sockets = [...(this.local.of(userId) ?? [])];
    if (sockets.length) this.log.info({ userId, sockets: sockets.length }, 'blocked user disconnected');
    // A server-side disconnect: Socket.IO clients do not reconnect by themselves after it.
    for (const socket of sockets) socket.disconnect(true);
  }
}
