import { notifyState } from './notify.setting';

describe('notifyState', () => {
  const now = new Date('2030-01-01T12:00:00Z');
  it('is muted until muteUntil, then the level alone; all by default', () => {
    expect(notifyState(undefined, now)).toEqual({ level: 'all' });
    expect(notifyState({ level: 'mentions', muteUntil: '2030-01-01T13:00:00.000Z' }, now)).toEqual({ level: 'mentions', mutedUntil: '2030-01-01T13:00:00.000Z' });
    expect(notifyState({ level: 'mentions', muteUntil: '2030-01-01T11:00:00.000Z' }, now)).toEqual({ level: 'mentions' });
    expect(notifyState({ level: 'none' }, now)).toEqual({ level: 'none' });
  });
});
