import type { Conversation, LastSend, Mute } from '@chat/domain';

/**
 * The moderation part of a conversation's state as Postgres keeps it, read with the
 * conversation `c` (both the projector's and the gateway's loads select these columns):
 * the members a rule singles out (moderators, muted; index members_moderation) and slow mode.
 */
export const MODERATION_COLUMNS = `c.slow_mode_seconds, c.slow_mode_seq,
  (SELECT jsonb_agg(jsonb_build_array(m.user_id, m.role, m.muted_seq, m.muted_until))
     FROM members m WHERE m.conversation_id = c.id AND (m.role <> 'member' OR m.muted_seq IS NOT NULL)) AS moderation`;

/**
 * While slow mode is on, each member's latest send since slow mode was set and since it
 * joined: one probe of timeline_senders per member, only for conversations in slow mode.
 * What evolve keeps in `lastSends`, so that a state loaded cold judges sends as the one
 * folded in memory does. (Sends already moved to the warm tier are not looked for: with
 * CHAT_TIER_HOT_AGE far above slow mode's hour they cannot matter.)
 */
export const LAST_SENDS_COLUMN = `CASE WHEN c.slow_mode_seconds > 0 THEN COALESCE((
    SELECT jsonb_object_agg(m.user_id, jsonb_build_array(s.seq, s.at)) FROM members m
     CROSS JOIN LATERAL (
       SELECT t.seq, t.at FROM timeline t
        WHERE t.conversation_id = c.id AND t.kind = 'message' AND t.payload->>'senderId' = m.user_id
          AND t.seq > GREATEST(c.slow_mode_seq, m.joined_seq)
        ORDER BY t.seq DESC LIMIT 1) s
     WHERE m.conversation_id = c.id), '{}'::jsonb) END AS last_sends`;

export interface ModerationRow {
  slow_mode_seconds: number;
  slow_mode_seq: string | null;
  moderation: Array<[userId: string, role: string, mutedSeq: number | null, mutedUntil: string | null]> | null;
  last_sends?: Record<string, [seq: number, at: string]> | null;
}

/** The state's moderation parts from those columns; absent parts are none, as evolve leaves them. */
export function moderationOf(r: ModerationRow): Pick<Conversation, 'moderators' | 'muted' | 'slowMode' | 'lastSends'> {
  const moderators = new Set<string>();
  const muted = new Map<string, Mute>();
  for (const [userId, role, mutedSeq, mutedUntil] of r.moderation ?? []) {
    if (role === 'moderator') moderators.add(userId);
    if (mutedSeq !== null) muted.set(userId, { seq: Number(mutedSeq), ...(mutedUntil !== null && { until: new Date(mutedUntil).toISOString() }) });
  }
  const slowMode = r.slow_mode_seconds > 0 ? { seconds: r.slow_mode_seconds, seq: Number(r.slow_mode_seq) } : undefined;
  const lastSends = slowMode && r.last_sends !== undefined
    ? new Map<string, LastSend>(Object.entries(r.last_sends ?? {}).map(([u, [seq, at]]) => [u, { seq: Number(seq), at: new Date(at).toISOString() }]))
    : undefined;
  return {
    ...(moderators.size > 0 && { moderators }),
    ...(muted.size > 0 && { muted }),
    ...(slowMode && { slowMode }),
    ...(lastSends && { lastSends }),
  };
}
