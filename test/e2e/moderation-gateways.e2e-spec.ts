import type { ChatEvent } from '@chat/contracts';
import { refusedWith, tokenFor, waitForEvents } from '../support/clients';
import { useCluster } from '../support/cluster';
import { TEST_ADMIN_TOKEN, UNLIMITED } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

describe('moderation across two gateways and an admin API process', () => {
  const sys = useCluster('modgw', UNLIMITED, { gateways: 2, api: true });
  const { connect } = sys;
  const admin = (method: string, path: string) =>
    fetch(`${sys.cluster.api!.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  it('closes a blocked user\'s sockets on every gateway at once and refuses its connects on each until unblocked', async () => {
    const [onFirst, onSecond, other] = await Promise.all([connect(0, 'troll', 'laptop'), connect(1, 'troll', 'phone'), connect(1, 'friend')]);
    const closed = Promise.all([onFirst, onSecond].map((c) => new Promise<string>((resolve) => c.socket.once('disconnect', (reason) => resolve(reason)))));
    expect((await admin('POST', '/v1/admin/users/troll/block')).status).toBe(200);
    expect(await closed).toEqual(['io server disconnect', 'io server disconnect']);
    for (const gw of sys.cluster.gateways) expect(await refusedWith(gw.url, { token: await tokenFor('troll') })).toBe('blocked');
    expect(other.socket.connected).toBe(true);

    expect((await admin('DELETE', '/v1/admin/users/troll/block')).status).toBe(200);
    // Each gateway learns of the unblock from its notice: connects succeed again everywhere.
    for (const [i] of sys.cluster.gateways.entries()) {
      const back = await waitFor(`a connect to gateway ${i + 1} after the unblock`, () => connect(i, 'troll').catch(() => undefined), 10_000, 100);
      expect(back.socket.connected).toBe(true);
    }
  });

  it('enforces a mute and slow mode set through one gateway on a member of another, once its event arrives there', async () => {
    const owner = await connect(0, 'boss');
    const member = await connect(1, 'chatty');
    const { conversation } = await owner.ok('conversation:create', { type: 'group', members: ['chatty'] });
    const id = conversation.id;
    const isChange = (name: string) => (e: ChatEvent) => e.type === 'conversation' && e.change === name;
    // chatty's gateway has the conversation cached from a first send.
    await member.ok('message:send', { conversationId: id, clientMsgId: 'c1', body: 'hello' });

    await owner.ok('conversation:mute_member', { conversationId: id, userId: 'chatty' });
    await waitForEvents(member, 1, isChange('member_muted'));
    expect(await member.request('message:send', { conversationId: id, clientMsgId: 'c2', body: 'still here' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    await owner.ok('conversation:unmute_member', { conversationId: id, userId: 'chatty' });
    await waitForEvents(member, 1, isChange('member_unmuted'));

    await owner.ok('conversation:set_slow_mode', { conversationId: id, seconds: 600 });
    await waitForEvents(member, 1, isChange('slow_mode'));
    const one = await member.ok('message:send', { conversationId: id, clientMsgId: 'c3', body: 'one' });
    // Projected (the owner has it live): the same member through the other gateway, which
    // never saw that send, finds it in the read model.
    await waitForEvents(owner, 1, (e) => e.type === 'message' && e.seq === one.seq);
    const elsewhere = await connect(0, 'chatty', 'tablet');
    const second = await elsewhere.request('message:send', { conversationId: id, clientMsgId: 'c4', body: 'two' });
    expect(second).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } });
    expect(!second.ok && second.error.retryAfterMs).toBeGreaterThan(590_000);
  });
});
