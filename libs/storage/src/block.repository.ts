import type { Pool } from 'pg';

export interface BlockedUser {
  userId: string;
  blockedAt: string;
}

/** Users the operator blocked (public.blocked_users): written by the admin API, read by every gateway. */
export class BlockRepository {
  constructor(private readonly pool: Pool) {}

  /** Blocks the user (once: blocking again keeps the first time); answers when it was blocked. */
  async block(userId: string): Promise<BlockedUser> {
    const { rows } = await this.pool.query<{ blocked_at: Date }>(
      `WITH ins AS (INSERT INTO public.blocked_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING blocked_at)
       SELECT blocked_at FROM ins UNION ALL SELECT blocked_at FROM public.blocked_users WHERE user_id = $1 LIMIT 1`,
      [userId],
    );
    return { userId, blockedAt: rows[0]!.blocked_at.toISOString() };
  }

  /** Whether the user was blocked. */
  async unblock(userId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM public.blocked_users WHERE user_id = $1', [userId])).rowCount ?? 0) > 0;
  }

  /** Every blocked user: what a gateway checks each connect against (a few, however many users there are). */
  async all(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ user_id: string }>('SELECT user_id FROM public.blocked_users');
    return new Set(rows.map((r) => r.user_id));
  }

  async get(userId: string): Promise<BlockedUser | undefined> {
    const { rows } = await this.pool.query<{ blocked_at: Date }>('SELECT blocked_at FROM public.blocked_users WHERE user_id = $1', [userId]);
    return rows[0] && { userId, blockedAt: rows[0].blocked_at.toISOString() };
  }

  /** A page by user id, after `afterUserId`. */
  async page(limit: number, afterUserId = ''): Promise<BlockedUser[]> {
    const { rows } = await this.pool.query<{ user_id: string; blocked_at: Date }>(
      'SELECT user_id, blocked_at FROM public.blocked_users WHERE user_id > $1 ORDER BY user_id LIMIT $2',
      [afterUserId, limit],
    );
    return rows.map((r) => ({ userId: r.user_id, blockedAt: r.blocked_at.toISOString() }));
  }
}
