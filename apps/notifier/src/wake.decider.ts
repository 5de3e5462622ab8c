import type { PushDecisionKind, PushDevice } from '@chat/storage';

/** What the notifier knows about one recipient of one message. */
export interface Recipient {
  userId: string;
  online: boolean;
  lastReadSeq: number;
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
  if (r.devices.length === 0) return 'no_device';
  if (!r.lastActiveAt || now.getTime() - r.lastActiveAt.getTime() > activeWithinMs) return 'idle';
  return 'wake';
}
