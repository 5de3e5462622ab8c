import { Redis } from 'ioredis';
import { Names } from '@chat/messaging';
import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, refusedWith, tokenFor, type TestClient } from '../support/clients';
import { skewedClockEnv } from '../support/faketime';
import { caughtUp } from '../support/inspect';
import { SendLedger, cursorsOf, expectNothingLost } from '../support/ledger';
import { createNamespace, SHARED, UNLIMITED, type TestNamespace } from '../support/namespace';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const SKEW_S = 600;
const TOLERANCE_S = 30;
/** Lease length of libs/connections (25 s). */
const LEASE_MS = 25_000;

/**
 * One gateway's wall clock is 10 minutes ahead (libfaketime), next to a gateway and a
 * projector on the right time. Order comes from the log, lease times from Redis's clock,
 * and token expiry from the skewed gateway's own clock within CHAT_JWT_CLOCK_TOLERANCE.
 */
describe('a gateway whose clock is 10 minutes ahead', () => {
  let ns: TestNamespace;
  let names: Names;
  let redis: Redis;
  const apps: AppProcess[] = [];
  let right: AppProcess;
  let skewed: AppProcess;
  const clients: TestClient[] = [];
  const open = async (app: AppProcess, userId: string, opts: { deviceId?: string; token?: string } = {}) => {
    const c = await connectClient(app.url, userId, opts);
    clients.push(c);
    return c;
  };
  /** Seconds the server's Date header is ahead of this process's clock. */
  const aheadBy = async (app: AppProcess) => {
    const res = await fetch(`${app.url}/healthz`);
    return Math.round((Date.parse(res.headers.get('date')!) - Date.now()) / 1000);
  };
  const redisNow = async () => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  beforeAll(async () => {
    ns = createNamespace('skew', { ...UNLIMITED, CHAT_JWT_CLOCK_TOLERANCE: String(TOLERANCE_S) });
    names = new Names(ns.name, Number(ns.env.CHAT_PARTITIONS));
    redis = new Redis(SHARED.redis);
    apps.push(await startApp({ env: ns.env, script: 'start:projector' }));
    [right, skewed] = await Promise.all([
      startApp({ env: { ...ns.env, CHAT_NODE_ID: 'right' }, script: 'start:gateway' }),
      startApp({ env: { ...ns.env, CHAT_NODE_ID: 'skewed', ...skewedClockEnv(`+${SKEW_S}s`) }, script: 'start:gateway' }),
    ]);
    apps.push(right, skewed);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(apps.map((a) => a.stop()));
    redis?.disconnect();
    await ns?.cleanup();
  });

  it('really runs 10 minutes ahead (its Date header), the other gateway on time', async () => {
    expect(Math.abs((await aheadBy(skewed)) - SKEW_S)).toBeLessThanOrEqual(5);
    expect(Math.abs(await aheadBy(right))).toBeLessThanOrEqual(5);
  });

  it('orders messages sent through both gateways by the log, whatever their sentAt says', async () => {
    const amy = await open(skewed, 'amy');
    const bo = await open(right, 'bo');
    const { conversation } = await amy.ok('conversation:create', { type: 'direct', members: ['bo'] });
    const members = { [conversation.id]: ['amy', 'bo'] };
    const cursors = await cursorsOf(right.url, ['amy', 'bo']);
    const ledger = new SendLedger();

    // Turn by turn: each message is acked before the other side answers it.
    const turns: Array<{ seq: number; sentAt: string; skewed: boolean }> = [];
    for (let i = 0; i < 20; i++) {
      const from = i % 2 ? bo : amy;
      const ack = await ledger.send(from, conversation.id, `turn-${i}`);
      if (!ack.ok) throw new Error(`turn ${i}: ${ack.error.code}`);
      turns.push({ seq: ack.seq, sentAt: ack.sentAt, skewed: from === amy });
    }
    // Seqs follow the turns; sentAt does not (amy's are 10 minutes "later" than the answers to them).
    expect(turns.map((t) => t.seq)).toEqual([...turns.map((t) => t.seq)].sort((a, b) => a - b));
    const gap = (Date.parse(turns[0]!.sentAt) - Date.parse(turns[1]!.sentAt)) / 1000;
    expect(Math.abs(gap - SKEW_S)).toBeLessThanOrEqual(5);
    // Then both at once: 50 each, concurrently.
    await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.send(i % 2 ? bo : amy, conversation.id, `burst-${i}`)));
    expect(ledger.size).toBe(120);

    // Live: each side gets the other's messages once, in seq order, across the two gateways.
    for (const [client, other] of [[amy, 'bo'], [bo, 'amy']] as const) {
      const want = ledger.all().filter((s) => s.senderId === other).map((s) => s.seq).sort((a, b) => a - b);
      await waitFor(`${client.userId} to get ${want.length} messages live`, () => client.messages().length >= want.length);
      expect(client.messages().map((m) => m.seq)).toEqual(want);
    }
    // history, through the skewed gateway: seq order, which is the turn order.
    const history = await amy.ok('history', { conversationId: conversation.id, limit: 20 });
    expect(history.messages.map((m) => m.clientMsgId)).toEqual(ledger.all().sort((a, b) => a.seq - b.seq).slice(-20).map((s) => s.clientMsgId));
    await caughtUp(ns);
    await expectNothingLost(ns, ledger, { url: skewed.url, members, cursors });
  });

  it("keeps lease times on Redis's clock: the skewed gateway neither outlives its leases nor sweeps the other's", async () => {
    const cy = await open(skewed, 'cy');
    const di = await open(right, 'di');
    const watcher = await open(right, 'ed');
    // Presence is for users who share a conversation.
    await watcher.ok('conversation:create', { type: 'group', members: ['cy', 'di'] });
    expect((await watcher.ok('presence:subscribe', { userIds: ['cy', 'di'] })).presence.map((p) => p.status)).toEqual(['online', 'online']);

    // cy's lease, written by the skewed gateway, ends within a lease length of Redis's now.
    const [, cyUntil] = await redis.zrange(names.leasesKey(cy.userId), '0', '-1', 'WITHSCORES');
    expect(Number(cyUntil) - (await redisNow())).toBeGreaterThan(0);
    expect(Number(cyUntil) - (await redisNow())).toBeLessThanOrEqual(LEASE_MS);

    // Three expired canary leases in a row, each swept by some gateway: both gateways swept since di connected.
    for (let i = 0; i < 3; i++) {
      const canary = `canary-${i}`;
      const expired = (await redisNow()) - 1;
      await redis.zadd(names.leasesKey(canary), expired, `gone|1|${canary}`);
      await redis.zadd(names.leaseIndexKey(names.leaseIndexShard(canary)), expired, canary);
      await waitFor(`a sweep to remove ${canary}`, async () => (await redis.zscore(names.leaseIndexKey(names.leaseIndexShard(canary)), canary)) === null, 10_000, 50);
    }
    expect(await redis.zcount(names.leasesKey(di.userId), await redisNow(), '+inf')).toBe(1);
    expect((await watcher.ok('presence:subscribe', { userIds: ['cy', 'di'] })).presence.map((p) => p.status)).toEqual(['online', 'online']);
    // Nobody flapped offline meanwhile.
    expect(watcher.presence.filter((p) => p.status === 'offline')).toEqual([]);
  });

  it('accepts a token expired by less than the tolerance on its clock, refuses one expired by more, and ends the session at the tolerance', async () => {
    // exp is real time + 9:35 / + 9:15: on the skewed clock expired 25 s / 45 s ago; on the right clock valid for minutes.
    const within = await tokenFor('flo', { expiresIn: SKEW_S - 25 });
    const beyond = await tokenFor('flo', { expiresIn: SKEW_S - 45 });
    expect(await refusedWith(skewed.url, { token: beyond })).toBe('unauthorized');
    const onRight = await open(right, 'flo', { token: beyond });
    expect((await onRight.request('sync', {})).ok).toBe(true);

    const flo = await open(skewed, 'flo', { token: within });
    // Within the tolerance, events are served too (not UNAUTHORIZED)...
    expect(await flo.request('conversation:list', {})).toEqual(expect.objectContaining({ ok: true }));
    // ...until exp + tolerance on the skewed clock, about 5 s from now: then the gateway closes the socket.
    await waitFor('the skewed gateway to end the session at exp + tolerance', () => !flo.socket.connected, 20_000, 50);
    expect(await refusedWith(skewed.url, { token: within })).toBe('unauthorized');
    expect(onRight.socket.connected).toBe(true);
  });
});
