import type { Conversation, Mute, Role } from './conversation.state';
import type { UserId } from './ids';
import { OPERATOR } from './ids';

/** The longest slow mode: one message an hour. */
export const MAX_SLOW_MODE_SECONDS = 3600;
/** Characters a report's reason may hold. */
export const MAX_REPORT_REASON = 500;

/** A refusal of the moderation rules; `retryAfterMs` where waiting helps (slow mode, a timed mute). */
export interface Restriction {
  code: 'FORBIDDEN' | 'RATE_LIMITED';
  reason: string;
  retryAfterMs?: number;
}

/**
 * A member's role: the creator of a group is its owner, for as long as it is a member.
 * Direct conversations have no roles: both are members.
 */
export function roleOf(state: Conversation, userId: UserId): Role {
  if (state.kind === 'group' && userId === state.createdBy) return 'owner';
  return state.moderators?.has(userId) ? 'moderator' : 'member';
}

/** `Conversation.roles` as clients see it: the owner (while a member) and the moderators. */
export function rolesOf(state: Conversation): Record<UserId, 'owner' | 'moderator'> {
  const roles: Record<UserId, 'owner' | 'moderator'> = {};
  if (state.kind === 'group' && state.members.has(state.createdBy)) roles[state.createdBy] = 'owner';
  for (const u of state.moderators ?? []) roles[u] = 'moderator';
  return roles;
}

/**
 * A time in the one form state keeps and Postgres gives back (`toISOString`), so that a
 * state loaded from the read model equals the one folded in memory. Text that is no time
 * is kept as it is (the rules compare instants, which it has none of).
 */
export function canonicalTime(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** A mute holds at `at` when it has no end, or its end is later. */
export function mutedAt(mute: Mute | undefined, at: string): boolean {
  return mute !== undefined && (mute.until === undefined || Date.parse(mute.until) > Date.parse(at));
}

/**
 * Whether `by` may moderate (mute, unmute, set slow mode, remove others, delete any
 * message; `ownerOnly`: set roles). OPERATOR may where `operator` says so, whatever the
 * membership. `undefined` allows it.
 */
export function moderationRefusal(state: Conversation, by: UserId, opts: { ownerOnly?: boolean; operator?: boolean } = {}): string | undefined {
  if (by === OPERATOR) {
    if (!opts.operator) return 'not a member';
    return state.kind === 'direct' ? 'direct conversations have no moderation' : undefined;
  }
  if (!state.members.has(by)) return 'not a member';
  if (state.kind === 'direct') return 'direct conversations have no roles or moderation';
  const role = roleOf(state, by);
  if (opts.ownerOnly) return role === 'owner' ? undefined : 'only the owner sets roles';
  return role === 'member' ? 'only the owner and moderators do this' : undefined;
}

/**
 * What holds a member's send back: a mute, or slow mode (the owner and moderators are
 * exempt). `basis` is the conversation position the send was decided on: a mute or an
 * earlier send after it is one the deciding gateway could not know of, and the send was
 * acked already, so it does not count (the rules in log order never refuse what a gateway
 * rightly acked). Without a basis (the gateway deciding) everything known counts.
 */
export function sendRestriction(state: Conversation, senderId: UserId, at: string, basis = Number.MAX_SAFE_INTEGER): Restriction | undefined {
  const mute = state.muted?.get(senderId);
  if (mute && mute.seq <= basis && mutedAt(mute, at)) {
    return {
      code: 'FORBIDDEN',
      reason: mute.until === undefined ? 'you are muted in this conversation' : `you are muted in this conversation until ${mute.until}`,
      ...(mute.until !== undefined && { retryAfterMs: Math.max(1, Date.parse(mute.until) - Date.parse(at)) }),
    };
  }
  const slow = state.slowMode;
  if (!slow || roleOf(state, senderId) !== 'member') return undefined;
  const last = state.lastSends?.get(senderId);
  if (!last || last.seq > basis) return undefined;
  const window = slow.seconds * 1000;
  const waited = Date.parse(at) - Date.parse(last.at);
  if (waited >= window) return undefined;
  // A send stamped before the last one (gateways' clocks differ) waits one whole window.
  return { code: 'RATE_LIMITED', reason: `slow mode: one message every ${slow.seconds} s`, retryAfterMs: Math.min(window, Math.max(1, window - waited)) };
}
