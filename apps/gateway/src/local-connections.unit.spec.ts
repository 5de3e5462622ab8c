import type { Socket } from 'socket.io';
import { LocalConnections } from './local-connections';

const socket = (id: string) => ({ id }) as Socket;

describe('LocalConnections', () => {
  it('holds each socket of a user once, counts them, and forgets a user with none left', () => {
    const local = new LocalConnections();
    const [a1, a2, b1] = [socket('a1'), socket('a2'), socket('b1')];
    local.add('ann', a1);
    local.add('ann', a1);
    local.add('ann', a2);
    local.add('bob', b1);
    expect(local.size).toBe(3);
    expect(local.of('ann')).toEqual([a1, a2]);
    expect([...local.sockets()]).toEqual([a1, a2, b1]);

    local.remove('ann', a1);
    local.remove('ann', a1);
    local.remove('bob', a2); // not bob's: nothing changes
    expect(local.size).toBe(2);
    expect(local.of('ann')).toEqual([a2]);
    local.remove('ann', a2);
    expect(local.of('ann')).toBeUndefined();
    expect(local.size).toBe(1);
  });
});
