import type { NotifyLevel } from '@chat/domain';
import type { PushDecisionKind, PushDevice } from '@chat/storage';

/** What the notifier knows about one recipient of one message. */
export interface Recipient {
  userId: string;
  online: boolean;
  lastReadSeq: number;
  /** The recipient's notification setting for the conversation; `all` when unknown. */
  notify?: NotifyLevel;
  muteUntil?: Date;
  /** Whether the message mentions the recipient. */
  mentioned?: boolean;
  lastActiveAt?: Date;
  devices: readonly PushDevice[];
}

/** The decisions made without sending anything. */
export type Verdict = 'wake' | Exclude<PushDecisionKind, 'woken' | 'coalesced' | 'failed'>;

/**
 * Whether a recipient of the message at `seq` should be woken, or why not. Pure: the
 * coalescing window and the sending come after, for those it returns `wake`.
 */
export function shouldWake(r: Recipient, seq: number, now: Date, activeWithinMs: number): Verdict {
  if (r.online) return 'online';
  if (r.lastReadSeq >= seq) return 'read';
  // A mute silences mentions too, as in Slack; mentions-only lets through what names the user.
  if (r.notify === 'none' || (r.muteUntil && r.muteUntil.getTime() > now.getTime())) return 'muted';
  if (r.notify === 'mentions' && !r.mentioned) return 'not_mentioned';
  if (r.devices.length === 0) return 'no_device';
  if (!r.lastActiveAt || now.getTime() - r.lastActiveAt.getTime() > activeWithinMs) return 'idle';
  return 'wake';
}
