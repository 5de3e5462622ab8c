import { shouldWake, type Recipient } from './wake.decider';

const now = new Date('2026-01-01T12:00:00Z');
const HOUR = 3_600_000;
const device = { userId: 'u', deviceId: 'd', platform: 'webhook' as const, token: 'https://x.example/h' };
const base: Recipient = { userId: 'u', online: false, lastReadSeq: 0, lastActiveAt: new Date(now.getTime() - HOUR), devices: [device] };

describe('shouldWake', () => {
  it.each<[string, Partial<Recipient>, ReturnType<typeof shouldWake>]>([
    ['an offline member with a device, active an hour ago', {}, 'wake'],
    ['a member online on any device', { online: true }, 'online'],
    ['a member who already read past the message', { lastReadSeq: 10 }, 'read'],
    ['a member who read exactly up to it', { lastReadSeq: 7 }, 'read'],
    ['a member with no registered device', { devices: [] }, 'no_device'],
    ['a member idle for longer than the setting', { lastActiveAt: new Date(now.getTime() - 3 * HOUR) }, 'idle'],
    ['a member never seen', { lastActiveAt: undefined }, 'idle'],
    ['a member who muted the conversation (level none)', { notify: 'none' }, 'muted'],
    ['a member who muted it until later, even when mentioned', { muteUntil: new Date(now.getTime() + HOUR), mentioned: true }, 'muted'],
    ['a member whose mute has ended', { muteUntil: new Date(now.getTime() - 1) }, 'wake'],
    ['a member on mentions only, not mentioned', { notify: 'mentions' }, 'not_mentioned'],
    ['a member on mentions only, mentioned', { notify: 'mentions', mentioned: true }, 'wake'],
    ['a muted member who read the message already', { notify: 'none', lastReadSeq: 7 }, 'read'],
  ])('decides %s: %s', (_what, change, expected) => {
    const r: Recipient = { ...base, ...change };
    if ('lastActiveAt' in change && change.lastActiveAt === undefined) delete r.lastActiveAt;
    expect(shouldWake(r, 7, now, 2 * HOUR)).toBe(expected);
  });

  it('checks online before anything else', () => {
    expect(shouldWake({ ...base, online: true, devices: [], lastReadSeq: 99 }, 7, now, HOUR)).toBe('online');
  });
});
