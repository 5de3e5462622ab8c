import type { Pool } from 'pg';
import type { NotifyLevel } from '@chat/domain';
import { inTransaction } from './database';
import { UNREAD } from './unread';

/** Advisory lock class of a user's push registrations (with the user id's hash as second key). */
export const PUSH_REGISTRATION_LOCK = 7243004;

export interface PushDevice {
  userId: string;
  deviceId: string;
  platform: 'fcm' | 'apns' | 'webpush' | 'webhook';
  token: string;
}

/** Why a member was or was not woken for a message. */
export type PushDecisionKind = 'woken' | 'online' | 'idle' | 'coalesced' | 'no_device' | 'read' | 'muted' | 'not_mentioned' | 'failed';

/** One decision about one member and one message. `online` is recorded as ranges instead (OnlineRange). */
export interface PushDecision {
  userId: string;
  conversationId: string;
  seq: number;
  decision: Exclude<PushDecisionKind, 'online'>;
  detail?: string;
}

/** `messages` messages of a conversation, from `fromSeq` to `toSeq`, each of which found the user online. */
export interface OnlineRange {
  userId: string;
  conversationId: string;
  fromSeq: number;
  toSeq: number;
  messages: number;
}

/** A member's read marker in a conversation and its unread messages there. */
export interface ReadMarker {
  lastReadSeq: number;
  unread: number;
  /** The member's own notification setting (conversation:notify). */
  notify: NotifyLevel;
  /** Until when the member muted the conversation, if it did. */
  muteUntil?: Date;
}

/**
 * Registered devices, users' last activity and the notifier's decisions (schema public),
 * and the notifier's batched reads of the timeline projection (members, read markers).
 */
export class PushRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Registers a device, or replaces its registration; another device of the user with the
   * same token gives its registration up (one token, one wake-up). False, changing nothing,
   * when the user already has `max` registrations besides these. Under a per-user lock, so
   * that registrations racing each other cannot pass the cap together.
   */
  async register(device: PushDevice, max = Number.POSITIVE_INFINITY): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PUSH_REGISTRATION_LOCK, device.userId]);
      const args = [device.userId, device.deviceId, device.platform, device.token];
      const { rows } = await c.query<{ others: number }>(
        `SELECT count(*)::int AS others FROM public.push_devices
          WHERE user_id = $1 AND device_id <> $2 AND NOT (platform = $3 AND token = $4)`,
        args,
      );
      if (rows[0]!.others >= max) return false;
      await c.query('DELETE FROM public.push_devices WHERE user_id = $1 AND device_id <> $2 AND platform = $3 AND token = $4', args);
      await c.query(
        `INSERT INTO public.push_devices (user_id, device_id, platform, token) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, device_id) DO UPDATE SET platform = excluded.platform, token = excluded.token, registered_at = now()`,
        args,
      );
      return true;
    });
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

  /** One statement for all of them. */
  async record(decisions: PushDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await this.pool.query(
      `INSERT INTO public.push_decisions (user_id, conversation_id, seq, decision, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])`,
      [decisions.map((d) => d.userId), decisions.map((d) => d.conversationId), decisions.map((d) => d.seq), decisions.map((d) => d.decision), decisions.map((d) => d.detail ?? null)],
    );
  }

  /** `online` decisions, one row per range; one statement for all of them. */
  async recordOnline(ranges: OnlineRange[]): Promise<void> {
    if (ranges.length === 0) return;
    await this.pool.query(
      `INSERT INTO public.push_decisions (user_id, conversation_id, seq, to_seq, messages, decision)
       SELECT u, c, f, t, n, 'online' FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::int[]) AS r(u, c, f, t, n)`,
      [ranges.map((r) => r.userId), ranges.map((r) => r.conversationId), ranges.map((r) => r.fromSeq), ranges.map((r) => r.toSeq), ranges.map((r) => r.messages)],
    );
  }

  /** A user's decisions, newest first (by when they were recorded), paged by id. */
  async decisions(userId: string, limit: number, beforeId?: number) {
    const { rows } = await this.pool.query<{
      id: string; conversation_id: string; seq: string; to_seq: string | null; messages: number | null; decision: string; detail: string | null; at: Date;
    }>(
      `SELECT id, conversation_id, seq, to_seq, messages, decision, detail, at FROM public.push_decisions
        WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [userId, beforeId ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id), conversationId: r.conversation_id, seq: Number(r.seq),
      ...(r.to_seq !== null && { toSeq: Number(r.to_seq) }), ...(r.messages !== null && { messages: r.messages }),
      decision: r.decision, at: r.at.toISOString(), ...(r.detail !== null && { detail: r.detail }),
    }));
  }

  /**
   * The current members of each conversation (user -> the seq it joined at), for those the
   * read model holds; one query for all of them.
   */
  async membersOf(conversationIds: string[]): Promise<Map<string, Map<string, number>>> {
    const { rows } = await this.pool.query<{ conversation_id: string; user_id: string; joined_seq: string }>(
      'SELECT conversation_id, user_id, joined_seq FROM members WHERE conversation_id = ANY($1::text[])',
      [conversationIds],
    );
    const byConversation = new Map<string, Map<string, number>>();
    for (const r of rows) {
      let members = byConversation.get(r.conversation_id);
      if (!members) byConversation.set(r.conversation_id, (members = new Map()));
      members.set(r.user_id, Number(r.joined_seq));
    }
    return byConversation;
  }

  /**
   * The read marker and unread count of each (conversation, user) pair that is a
   * membership, for the read check and the counts a wake-up carries; one query for all.
   */
  async readMarkers(pairs: Array<{ conversationId: string; userId: string }>): Promise<Map<string, Map<string, ReadMarker>>> {
    const byConversation = new Map<string, Map<string, ReadMarker>>();
    if (pairs.length === 0) return byConversation;
    const { rows } = await this.pool.query<{
      conversation_id: string; user_id: string; unread: string; last_read_seq: string; notify_level: ReadMarker['notify']; mute_until: Date | null;
    }>(
      `SELECT m.conversation_id, m.user_id, ${UNREAD} AS unread, m.last_read_seq, m.notify_level, m.mute_until
         FROM unnest($1::text[], $2::text[]) AS p(conversation_id, user_id)
         JOIN members m ON m.conversation_id = p.conversation_id AND m.user_id = p.user_id
         JOIN conversations c ON c.id = m.conversation_id`,
      [pairs.map((p) => p.conversationId), pairs.map((p) => p.userId)],
    );
    for (const r of rows) {
      let markers = byConversation.get(r.conversation_id);
      if (!markers) byConversation.set(r.conversation_id, (markers = new Map()));
      markers.set(r.user_id, {
        unread: Number(r.unread), lastReadSeq: Number(r.last_read_seq), notify: r.notify_level, ...(r.mute_until !== null && { muteUntil: r.mute_until }),
      });
    }
    return byConversation;
  }
}
