import type { ConversationEvent } from '@chat/domain';
import { PushSender, type Platform, type PushProvider, type SendResult, type WakeUp } from '@chat/push';
import type { OnlineRange, PushDecision, PushDevice, ReadMarker } from '@chat/storage';
import { BatchNotifier, type LoggedEvent, type NotifierDeps } from './batch.notifier';
import { MemberCache } from './member.cache';
import { OnlineRecorder } from './online.recorder';
import { WakeSender } from './wake.sender';

/*
 * The notifier's batch work at the service tier: the real decider, member cache and online
 * recorder, wake sender and push sender, with fakes for what they read and send through
 * (projection progress, route table, repositories, Redis claims, push providers).
 */

const HOUR = 3_600_000;
const now = new Date('2026-01-01T12:00:00Z');
const at = now.toISOString();
const P = 0;

const sent = (seq: number, conversationId: string, senderId = 'ann'): LoggedEvent => ({
  seq, event: { type: 'MessageSent', v: 1, conversationId, senderId, clientMsgId: `m${seq}`, body: 'a secret text', at },
});
const added = (seq: number, conversationId: string, userIds: string[]): LoggedEvent => ({
  seq, event: { type: 'MembersAdded', v: 1, conversationId, by: 'ann', userIds, at },
});
const reaction = (seq: number, conversationId: string): LoggedEvent => ({
  seq, event: { type: 'ReactionAdded', v: 1, conversationId, userId: 'bob', targetSeq: 1, emoji: '👍', at } as ConversationEvent,
});
const webhook = (userId: string, deviceId = 'd1'): PushDevice => ({ userId, deviceId, platform: 'webhook', token: `https://hooks.example/${userId}/${deviceId}` });

/** A world the notifier reads: members, who is online, markers, devices, activity. */
function fakeWorld() {
  const members = new Map<string, Map<string, number>>();
  const online = new Set<string>();
  const markers = new Map<string, Map<string, ReadMarker>>();
  const devices = new Map<string, PushDevice[]>();
  const active = new Map<string, Date>();
  const calls: Record<string, number> = { membersOf: 0, refresh: 0, online: 0, readMarkers: 0, devicesOf: 0, lastActive: 0, record: 0, waitFor: 0 };
  const recorded: PushDecision[] = [];
  const ranges: OnlineRange[] = [];
  const forgotten: PushDevice[] = [];
  const claimed = new Map<string, number>();
  const wakeUps: WakeUp[] = [];
  let committed = Number.MAX_SAFE_INTEGER;
  let inFlight = 0;
  let maxInFlight = 0;
  const answers = new Map<string, SendResult[]>();
  /** Tokens whose sends wait until the test lets them go. */
  const gates = new Map<string, Promise<void>>();
  let failWrites = 0;
  let failRecords = 0;
  let sends = 0;

  const provider: PushProvider = {
    platform: 'webhook',
    async send(w) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Let the other sends of the batch start before this one answers.
      await new Promise((r) => setImmediate(r));
      await gates.get(w.token);
      inFlight--;
      wakeUps.push(w);
      return answers.get(w.token)?.shift() ?? { kind: 'sent' };
    },
  };
  const store = {
    readMarkers: async (pairs: Array<{ conversationId: string; userId: string }>) => {
      calls.readMarkers!++;
      const out = new Map<string, Map<string, ReadMarker>>();
      for (const { conversationId, userId } of pairs) {
        const m = markers.get(conversationId)?.get(userId);
        if (m) out.set(conversationId, (out.get(conversationId) ?? new Map()).set(userId, m));
      }
      return out;
    },
    devicesOf: async (users: string[]) => {
      calls.devicesOf!++;
      return new Map(users.filter((u) => devices.has(u)).map((u) => [u, devices.get(u)!]));
    },
    lastActive: async (users: string[]) => {
      calls.lastActive!++;
      return new Map(users.filter((u) => active.has(u)).map((u) => [u, active.get(u)!]));
    },
    record: async (decisions: PushDecision[]) => {
      calls.record!++;
      if (failRecords > 0) {
        failRecords--;
        throw new Error('postgres is away');
      }
      recorded.push(...decisions);
    },
    forget: async (device: PushDevice) => {
      forgotten.push(device);
      devices.set(device.userId, (devices.get(device.userId) ?? []).filter((d) => d.token !== device.token));
    },
  };
  const recorder = new OnlineRecorder({
    recordOnline: async (r) => {
      if (failWrites > 0) {
        failWrites--;
        throw new Error('postgres is away');
      }
      ranges.push(...r);
    },
  }, { warn: () => undefined });
  const cache = new MemberCache(async (ids) => {
    calls.membersOf!++;
    return new Map(ids.filter((id) => members.has(id)).map((id) => [id, new Map(members.get(id)!)]));
  });
  const deps: NotifierDeps = {
    projection: {
      reached: () => committed,
      waitFor: async (_p, seq) => {
        calls.waitFor!++;
        return committed >= seq;
      },
    },
    members: cache,
    presence: {
      refresh: async () => {
        calls.refresh!++;
      },
      online: async (users) => {
        calls.online!++;
        return new Set([...users].filter((u) => online.has(u)));
      },
    },
    store,
    online: recorder,
    claims: {
      claim: async (userId, seq) => {
        if (claimed.has(userId)) return false;
        claimed.set(userId, seq);
        return true;
      },
    },
    wakes: new WakeSender({
      sender: new PushSender({ attemptTimeoutMs: 10_000 }),
      providers: new Map<Platform, PushProvider>([['webhook', provider]]),
      store,
      afterSend: () => void sends++,
      log: { warn: () => undefined },
    }),
    now: () => now,
    settings: { activeWithinMs: 2 * HOUR, projectionWaitMs: 10_000, sendConcurrency: 8 },
    log: { warn: () => undefined },
  };
  const notifier = new BatchNotifier(deps);
  return {
    notifier, recorder,
    /** A batch, and then the wake-ups it handed off, each until its decision is recorded. */
    async handle(events: LoggedEvent[]) {
      const result = await notifier.handle(P, events);
      await Promise.all(result.held?.values() ?? []);
      return result;
    },
    hold(token: string) {
      let release!: () => void;
      gates.set(token, new Promise<void>((r) => (release = r)));
      return () => {
        gates.delete(token);
        release();
      };
    },
    failNextRecords: (n: number) => void (failRecords = n), members, online, markers, devices, active, calls, recorded, ranges, forgotten, claimed, wakeUps, answers,
    get maxInFlight() { return maxInFlight; },
    get sends() { return sends; },
    commitUpTo: (seq: number) => void (committed = seq),
    failNextWrites: (n: number) => void (failWrites = n),
    group(id: string, users: string[], joinedSeq = 0) {
      members.set(id, new Map(users.map((u) => [u, joinedSeq])));
    },
    offlineActive(...users: string[]) {
      for (const u of users) {
        devices.set(u, [webhook(u)]);
        active.set(u, new Date(now.getTime() - HOUR));
      }
    },
  };
}

const decisionsOf = (recorded: PushDecision[], userId: string) => recorded.filter((d) => d.userId === userId).map((d) => [d.seq, d.decision]);
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}

describe('BatchNotifier', () => {
  it('decides a batch of 20 messages with one read of each kind, one insert for the batch and one for its wake-ups, wakes the offline member once, and the online one costs no query', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob', 'carol', 'erin']);
    w.online.add('bob');
    w.offlineActive('carol');
    w.devices.set('erin', [webhook('erin')]);
    w.active.set('erin', new Date(now.getTime() - 3 * HOUR)); // idle
    w.markers.set('g_a', new Map([['carol', { lastReadSeq: 0, unread: 20, notify: 'all' as const }]]));
    const batch = Array.from({ length: 20 }, (_, i) => sent(i + 1, 'g_a'));

    const { later } = await w.handle(batch);

    expect(later).toEqual([]);
    expect(w.calls).toEqual({ membersOf: 1, refresh: 1, online: 1, readMarkers: 1, devicesOf: 1, lastActive: 1, record: 2, waitFor: 1 });
    expect(decisionsOf(w.recorded, 'carol').sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([[1, 'woken'], ...Array.from({ length: 19 }, (_, i) => [i + 2, 'coalesced'])]);
    expect(decisionsOf(w.recorded, 'erin')).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, 'idle']));
    expect(decisionsOf(w.recorded, 'bob')).toEqual([]);
    expect(decisionsOf(w.recorded, 'ann')).toEqual([]);
    expect(w.wakeUps).toEqual([{ userId: 'carol', deviceId: 'd1', platform: 'webhook', token: webhook('carol').token, at, conversations: [{ conversationId: 'g_a', count: 20 }] }]);
    expect(JSON.stringify(w.wakeUps)).not.toMatch(/secret/);
    expect(w.claimed.get('carol')).toBe(1);
    expect(w.sends).toBe(1);

    // bob's twenty online decisions are one range, written at the flush.
    expect(w.ranges).toEqual([]);
    await w.recorder.flush();
    expect(w.ranges).toEqual([{ userId: 'bob', conversationId: 'g_a', fromSeq: 1, toSeq: 20, messages: 20 }]);
  });

  it('reads members once per conversation, and again after a membership event of it in its own stream', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob', 'dan');
    await w.handle([sent(1, 'g_a')]);
    await w.handle([sent(2, 'g_a'), reaction(3, 'g_a')]);
    expect(w.calls.membersOf).toBe(1);

    w.members.get('g_a')!.set('dan', 4);
    await w.handle([added(4, 'g_a', ['dan']), sent(5, 'g_a')]);
    expect(w.calls.membersOf).toBe(2);
    expect(decisionsOf(w.recorded, 'dan')).toEqual([[5, 'woken']]);
  });

  it('does not give a message to a member who joined after it, even when read in the same batch', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.members.get('g_a')!.set('dan', 3);
    w.offlineActive('bob', 'dan');
    await w.handle([sent(2, 'g_a'), added(3, 'g_a', ['dan']), sent(4, 'g_a')]);
    expect(decisionsOf(w.recorded, 'dan')).toEqual([[4, 'woken']]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[4, 'coalesced'], [2, 'woken']]);
  });

  it('sends the wake-ups of different users concurrently, one per user, naming every conversation it has news in', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob', 'cat', 'dan']);
    w.group('g_b', ['ann', 'bob']);
    w.offlineActive('bob', 'cat', 'dan');
    await w.handle([sent(1, 'g_a'), sent(2, 'g_b'), sent(3, 'g_a')]);
    expect(w.maxInFlight).toBe(3);
    expect(w.wakeUps.map((x) => x.userId).sort()).toEqual(['bob', 'cat', 'dan']);
    expect(w.wakeUps.find((x) => x.userId === 'bob')!.conversations.map((c) => c.conversationId)).toEqual(['g_a', 'g_b']);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[2, 'coalesced'], [3, 'coalesced'], [1, 'woken']]);
  });

  it('sends nothing to a user whose window is claimed already (a redelivery after a crash)', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob');
    w.claimed.set('bob', 1);
    await w.handle([sent(1, 'g_a'), sent(2, 'g_a')]);
    expect(w.wakeUps).toEqual([]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[1, 'coalesced'], [2, 'coalesced']]);
  });

  it('waits once for the projection of the batch, decides what is projected and hands back the rest', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob');
    w.commitUpTo(5);
    const { later } = await w.handle([sent(4, 'g_a'), sent(6, 'g_a'), sent(7, 'g_a')]);
    expect(w.calls.waitFor).toBe(1);
    expect(later).toEqual([6, 7]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[4, 'woken']]);
  });

  it('reads nothing for a batch without messages', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    const { later } = await w.handle([reaction(1, 'g_a'), added(2, 'g_a', ['cat']), { seq: 3 }]);
    expect(later).toEqual([]);
    expect(w.calls).toEqual({ membersOf: 0, refresh: 0, online: 0, readMarkers: 0, devicesOf: 0, lastActive: 0, record: 0, waitFor: 0 });
  });

  it('reads no marker, device or activity when every recipient is online', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob', 'cat']);
    w.online.add('bob').add('cat');
    await w.handle([sent(1, 'g_a'), sent(2, 'g_a')]);
    expect(w.calls).toMatchObject({ refresh: 1, online: 1, readMarkers: 0, devicesOf: 0, lastActive: 0 });
    expect(w.recorded).toEqual([]);
  });

  it('records failed and removes the token when the provider says it is gone, and woken when another device took it', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob', 'cat']);
    w.offlineActive('bob', 'cat');
    w.devices.set('cat', [webhook('cat'), webhook('cat', 'd2')]);
    w.answers.set(webhook('bob').token, [{ kind: 'gone', reason: '410' }]);
    w.answers.set(webhook('cat').token, [{ kind: 'failed', reason: '400' }]);
    await w.handle([sent(1, 'g_a')]);
    expect(w.recorded.find((d) => d.userId === 'bob')).toEqual({ userId: 'bob', conversationId: 'g_a', seq: 1, decision: 'failed', detail: 'webhook:d1 gone: 410' });
    expect(w.recorded.find((d) => d.userId === 'cat')).toEqual({ userId: 'cat', conversationId: 'g_a', seq: 1, decision: 'woken', detail: 'webhook:d2; webhook:d1 failed: 400' });
    expect(w.forgotten).toEqual([webhook('bob')]);
    expect(w.sends).toBe(1);
  });

  it('ends an online range when the member is decided otherwise, and starts another when it comes back', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.online.add('bob');
    await w.handle([sent(1, 'g_a'), sent(2, 'g_a')]);
    w.online.delete('bob'); // offline, no device
    await w.handle([sent(3, 'g_a')]);
    w.online.add('bob');
    await w.handle([sent(4, 'g_a')]);
    await w.recorder.flush();
    expect(w.ranges).toEqual([
      { userId: 'bob', conversationId: 'g_a', fromSeq: 1, toSeq: 2, messages: 2 },
      { userId: 'bob', conversationId: 'g_a', fromSeq: 4, toSeq: 4, messages: 1 },
    ]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[3, 'no_device']]);
  });

  it('keeps the online ranges while writing them fails, and writes them once when it works again', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.online.add('bob');
    await w.handle([sent(1, 'g_a')]);
    w.failNextWrites(1);
    await w.recorder.flush();
    expect(w.ranges).toEqual([]);
    await w.recorder.close();
    expect(w.ranges).toEqual([{ userId: 'bob', conversationId: 'g_a', fromSeq: 1, toSeq: 1, messages: 1 }]);
  });

  it('writes the ranges before the interval is over once enough are held', async () => {
    const ranges: OnlineRange[] = [];
    const recorder = new OnlineRecorder({ recordOnline: async (r) => void ranges.push(...r) }, { warn: () => undefined }, { intervalMs: 60_000, maxRanges: 2 });
    recorder.note([{ userId: 'bob', conversationId: 'g_a', seq: 1 }], []);
    await recorder.flush();
    expect(ranges).toEqual([{ userId: 'bob', conversationId: 'g_a', fromSeq: 1, toSeq: 1, messages: 1 }]);
    ranges.length = 0;
    recorder.note([{ userId: 'bob', conversationId: 'g_b', seq: 2 }, { userId: 'cy', conversationId: 'g_b', seq: 2 }], []);
    await until(() => ranges.length === 2);
    expect(ranges.map((r) => r.userId)).toEqual(['bob', 'cy']);
  });

  it('does not wait for a wake-up: the batch returns with its message held, the rest recorded; the held one settles when its decision is recorded', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob');
    const release = w.hold(webhook('bob').token);
    const { held } = await w.notifier.handle(P, [sent(1, 'g_a'), sent(2, 'g_a')]);
    expect([...held!.keys()]).toEqual([1]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[2, 'coalesced']]);
    let settled = false;
    void held!.get(1)!.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    release();
    await held!.get(1);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([[2, 'coalesced'], [1, 'woken']]);
  });

  it("a wake-up that hangs does not hold another user's, in the same batch or a later one", async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.group('g_b', ['ann', 'cat']);
    w.group('g_c', ['ann', 'dan']);
    w.offlineActive('bob', 'cat', 'dan');
    w.hold(webhook('bob').token); // never answers
    const first = await w.notifier.handle(P, [sent(1, 'g_a'), sent(2, 'g_b')]);
    await first.held!.get(2);
    const later = await w.notifier.handle(P, [sent(3, 'g_c')]);
    await later.held!.get(3);
    expect(w.wakeUps.map((x) => x.userId).sort()).toEqual(['cat', 'dan']);
    expect(decisionsOf(w.recorded, 'cat')).toEqual([[2, 'woken']]);
    expect(decisionsOf(w.recorded, 'dan')).toEqual([[3, 'woken']]);
    expect(decisionsOf(w.recorded, 'bob')).toEqual([]);
  });

  it('a wake-up whose decision cannot be recorded rejects its held message, so that the feed hands it back', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob');
    const release = w.hold(webhook('bob').token);
    const { held } = await w.notifier.handle(P, [sent(1, 'g_a')]);
    w.failNextRecords(1);
    release();
    await expect(held!.get(1)).rejects.toThrow('postgres is away');
  });

  it('names the tries a wake-up took', async () => {
    const w = fakeWorld();
    w.group('g_a', ['ann', 'bob']);
    w.offlineActive('bob');
    w.answers.set(webhook('bob').token, [{ kind: 'retry', reason: '503', afterMs: 0 }, { kind: 'sent' }]);
    await w.handle([sent(1, 'g_a')]);
    expect(w.recorded).toEqual([{ userId: 'bob', conversationId: 'g_a', seq: 1, decision: 'woken', detail: 'webhook:d1 (2 tries)' }]);
  });
});
