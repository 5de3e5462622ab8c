import type { NotifySetting } from '@chat/contracts';

/**
 * What a notification setting means now: `muted` while `muteUntil` has not passed (nothing
 * notifies, mentions neither), else the level. docs/protocol.md "Notification settings".
 */
export function notifyState(setting: NotifySetting | undefined, now: Date = new Date()): { level: NotifySetting['level']; mutedUntil?: string } {
  const level = setting?.level ?? 'all';
  const until = setting?.muteUntil;
  return until && Date.parse(until) > now.getTime() ? { level, mutedUntil: until } : { level };
}
