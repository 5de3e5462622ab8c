import type { Pool } from 'pg';

export interface PushDevice {
  userId: string;
  deviceId: string;
  platform: 'fcm' | 'apns' | 'webpush' | 'webhook';
  token: string;
}

export interface PushDecision {
  userId: string;
  conversationId: string;
  seq: number;
  decision: 'woken' | 'online' | 'idle' | 'coalesced' | 'no_device' | 'read' | 'failed';
  detail?: string;
}

/** Registered devices, users' last activity and the notifier's decisions (schema public). */
export class PushRepository {
  constructor(private readonly pool: Pool) {}

  async register(device: PushDevice): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.push_devices (user_id, device_id, platform, token) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, device_id) DO UPDATE SET platform = excluded.platform, token = excluded.token, registered_at = now()`,
      [device.userId, device.deviceId, device.platform, device.token],
    );
  }

  async unregister(userId: string, deviceId: string): Promise<void> {
    await this.pool.query('DELETE FROM public.push_devices WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
  }

  /** A token the provider says is gone; only that token, in case the device registered a new one since. */
  async forget(device: PushDevice): Promise<void> {
    await this.pool.query('DELETE FROM public.push_devices WHERE user_id = $1 AND device_id = $2 AND token = $3', [device.userId, device.deviceId, device.token]);
  }

  async devicesOf(userIds: string[]): Promise<Map<string, PushDevice[]>> {
    const { rows } = await this.pool.query<{ user_id: string; device_id: string; platform: PushDevice['platform']; token: string }>(
      'SELECT user_id, device_id, platform, token FROM public.push_devices WHERE user_id = ANY($1::text[]) ORDER BY user_id, device_id',
      [userIds],
    );
    const byUser = new Map<string, PushDevice[]>();
    for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), { userId: r.user_id, deviceId: r.device_id, platform: r.platform, token: r.token }]);
    return byUser;
  }

  async touch(userId: string, at = new Date()): Promise<void> {
    await this.touchMany(new Map([[userId, at]]));
  }

  /**
   * Last activity of many users in one statement, in user order so that two gateways
   * writing overlapping users at once take their row locks in the same order.
   */
  async touchMany(activity: ReadonlyMap<string, Date>): Promise<void> {
    if (activity.size === 0) return;
    const users = [...activity.keys()].sort();
    await this.pool.query(
      `INSERT INTO public.user_activity (user_id, last_active_at)
       SELECT * FROM unnest($1::text[], $2::timestamptz[])
       ON CONFLICT (user_id) DO UPDATE SET last_active_at = GREATEST(user_activity.last_active_at, excluded.last_active_at)`,
      [users, users.map((u) => activity.get(u)!)],
    );
  }

  async lastActive(userIds: string[]): Promise<Map<string, Date>> {
    const { rows } = await this.pool.query<{ user_id: string; last_active_at: Date }>(
      'SELECT user_id, last_active_at FROM public.user_activity WHERE user_id = ANY($1::text[])',
      [userIds],
    );
    return new Map(rows.map((r) => [r.user_id, r.last_active_at]));
  }

  async record(decisions: PushDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await this.pool.query(
      `INSERT INTO public.push_decisions (user_id, conversation_id, seq, decision, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])`,
      [decisions.map((d) => d.userId), decisions.map((d) => d.conversationId), decisions.map((d) => d.seq), decisions.map((d) => d.decision), decisions.map((d) => d.detail ?? null)],
    );
  }

  /** A user's decisions, newest first, paged by id. */
  async decisions(userId: string, limit: number, beforeId?: number) {
    const { rows } = await this.pool.query<{ id: string; conversation_id: string; seq: string; decision: string; detail: string | null; at: Date }>(
      `SELECT id, conversation_id, seq, decision, detail, at FROM public.push_decisions
        WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [userId, beforeId ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id), conversationId: r.conversation_id, seq: Number(r.seq), decision: r.decision, at: r.at.toISOString(), ...(r.detail !== null && { detail: r.detail }),
    }));
  }

  /** Unread messages of each member in a conversation, for the counts a wake-up carries. */
  async unread(conversationId: string, userIds: string[]): Promise<Map<string, { unread: number; lastReadSeq: number }>> {
    const { rows } = await this.pool.query<{ user_id: string; unread: string; last_read_seq: string }>(
      `SELECT m.user_id, c.message_count - m.read_count AS unread, m.last_read_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.conversation_id = $1 AND m.user_id = ANY($2::text[])`,
      [conversationId, userIds],
    );
    return new Map(rows.map((r) => [r.user_id, { unread: Math.max(0, Number(r.unread)), lastReadSeq: Number(r.last_read_seq) }]));
  }
}
