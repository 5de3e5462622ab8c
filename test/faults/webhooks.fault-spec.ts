import { startApp, type AppProcess } from '../support/app-process';
import { connectClient, waitForEvents, type TestClient } from '../support/clients';
import { caughtUp } from '../support/inspect';
import { createNamespace, UNLIMITED, type TestNamespace } from '../support/namespace';
import { waitFor } from '../support/wait';
import { adminWebhooks, HOOK_SECRET, idsOf, visibleEvents, WebhookReceiver, webhooksCaughtUp } from '../support/webhook-receiver';

jest.setTimeout(180_000);

/**
 * The integrator's receiver fails in the ways receivers fail: it answers errors, it hangs
 * (accepts the connection and never answers), it is down (connection refused), and the
 * sender itself is killed while events wait. Each time: messages keep flowing to sockets
 * meanwhile, the admin route names the failure, and once the receiver is back every event
 * members see arrives, in seq order per conversation, none lost. "A while" is measured in
 * the sender's own retries (its pauses double from 0.25 s to 10 s), not in fixed sleeps.
 */
describe('webhooks when the receiver fails', () => {
  let receiver: WebhookReceiver;
  let ns: TestNamespace;
  let app: AppProcess;
  const clients: TestClient[] = [];
  const connect = async (user: string) => {
    const c = await connectClient(app.url, user);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    // A 1 s timeout per call keeps the hanging receiver's case short (5 s by default).
    ns = createNamespace('hookfault', { ...UNLIMITED, CHAT_WEBHOOK_URL: receiver.url, CHAT_WEBHOOK_SECRET: HOOK_SECRET, CHAT_WEBHOOK_TIMEOUT: '1s' });
    app = await startApp({ env: ns.env });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.stop();
    await ns?.cleanup();
    await receiver?.close();
  });

  let round = 0;

  /**
   * Sends 30 messages into two conversations while the receiver fails, and checks that bob
   * gets every one live while no hook gets through; then waits until the sender has tried
   * the first waiting event `attempts` times, the admin route naming `error`.
   */
  async function sendWhileFailing(error: RegExp, attempts: number) {
    round++;
    const alice = await connect(`alice${round}`);
    const bob = await connect(`bob${round}`);
    const group = (await alice.ok('conversation:create', { type: 'group', members: [bob.userId, 'carol'] })).conversation.id;
    const direct = (await alice.ok('conversation:create', { type: 'direct', members: [bob.userId] })).conversation.id;
    const accepted = receiver.accepted.length;
    await Promise.all(Array.from({ length: 30 }, (_, i) => alice.ok('message:send', { conversationId: i % 3 ? group : direct, clientMsgId: `r${round}-${i}`, body: `m ${i}` })));
    await waitForEvents(bob, 30, (e) => e.type === 'message');
    const failing = await waitFor(`the sender to have tried ${attempts} times (${error})`, async () => {
      const w = await adminWebhooks(app);
      const p = w.partitions.find((x) => x.retrying > 0 && x.lastError && error.test(x.lastError.message) && x.lastError.attempts >= attempts);
      return p ? { w, p } : undefined;
    }, 60_000, 100);
    expect(failing.p.lag).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(failing.p.lastError!.at)).toBeLessThan(30_000);
    // Nothing created in this round got through: the conversations' creations wait too.
    expect(receiver.accepted.slice(accepted)).toEqual([]);
    return { alice, bob, group, direct };
  }

  /** Every event members see has arrived, once, in seq order per conversation; nothing retries any more. */
  async function expectAllDelivered() {
    await caughtUp(ns);
    const expected = await visibleEvents(ns);
    await receiver.waitForAll(idsOf(expected), 90_000);
    expect(Object.fromEntries(receiver.byConversation())).toEqual(Object.fromEntries(expected));
    expect(receiver.accepted.every((c) => c.verified)).toBe(true);
    const w = await webhooksCaughtUp(app);
    await waitFor('the reports to show nothing retrying', async () => (await adminWebhooks(app)).partitions.every((p) => p.retrying === 0));
    return w;
  }

  it('retries while the receiver answers 503, then 400, and delivers everything in order once it answers 200', async () => {
    receiver.answer({ kind: 'status', status: 503 });
    await sendWhileFailing(/^503$/, 3);
    // A 4xx is no answer either: only a 2xx counts (the contract's rule).
    receiver.answer({ kind: 'status', status: 400 });
    await waitFor('a 400 reported', async () => (await adminWebhooks(app)).partitions.some((p) => p.lastError?.message === '400'), 30_000, 100);
    receiver.answer({ kind: 'ok' });
    await expectAllDelivered();
    expect(receiver.repeats).toEqual([]);
  });

  it('gives up on each call to a receiver that hangs after the timeout, and delivers everything once it answers again', async () => {
    receiver.answer({ kind: 'hang' });
    await sendWhileFailing(/^timeout after 1000 ms$/, 3);
    receiver.answer({ kind: 'ok' });
    await expectAllDelivered();
    expect(receiver.repeats).toEqual([]);
  });

  it('keeps trying a receiver that is down (connection refused) for about 15 s, and delivers everything once it is back', async () => {
    await receiver.down();
    // Seven tries: 0.25 + 0.5 + 1 + 2 + 4 + 8 s of pauses since the first.
    await sendWhileFailing(/ECONNREFUSED/, 7);
    await receiver.up();
    await expectAllDelivered();
    expect(receiver.repeats).toEqual([]);
  });

  it('loses nothing and keeps the order when the sender is killed while events wait, and starts from its position again', async () => {
    await receiver.down();
    await sendWhileFailing(/ECONNREFUSED/, 2);
    await app.kill9();
    for (const c of clients.splice(0)) c.close();
    app = await startApp({ env: ns.env });
    // The killed sender left deliveries pending: its consumer is moved back to its position.
    await waitFor('the consumer moved back', () => /webhook consumer moved/.test(app.output()));
    // The messages sent meanwhile, and their conversations, still go out after the restart.
    const late = await connect('late');
    const { conversation } = await late.ok('conversation:create', { type: 'direct', members: ['later'] });
    await late.ok('message:send', { conversationId: conversation.id, clientMsgId: 'late-1', body: 'after the restart' });
    await receiver.up();
    await expectAllDelivered();
    // At least once: what was acked past the position may come again; nothing comes out of order.
    for (const seqs of receiver.byConversation().values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
