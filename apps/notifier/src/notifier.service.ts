import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Redis } from 'ioredis';
import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '@chat/config';
import { ConnectionRegistry } from '@chat/connections';
import { upcast } from '@chat/domain';
import { isNotFound, settle, type Names } from '@chat/messaging';
import { CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOGGER, NAMES, REDIS } from '@chat/platform';
import { sendWithRetry, type Platform, type PushProvider } from '@chat/push';
import { PushRepository, ReadModelRepository, type PushDecision } from '@chat/storage';
import { shouldWake } from './wake.decider';

/**
 * A message left unacked by a crashed notifier comes back after this; a live one that is
 * still working (provider retries) says so every ACK_WAIT_MS / 2.
 */
const ACK_WAIT_MS = 10_000;
/** How long a message waits for its projection (members, read markers) before it is retried later. */
const PROJECTION_WAIT_MS = 10_000;

export const PUSH_PROVIDERS = Symbol('PUSH_PROVIDERS');

/**
 * Wakes offline users' devices for new messages: one durable consumer per partition reads
 * the log; for each message, once it is projected, every other member who is offline, has
 * not read it, has a registered device and was active within CHAT_PUSH_ACTIVE_WITHIN gets
 * at most one wake-up per CHAT_PUSH_COALESCE (conversation ids and unread counts, never a
 * body). Every decision is recorded. The window is claimed in Redis before sending, so a
 * crash and redelivery cannot wake anyone twice within it.
 */
@Injectable()
export class NotifierService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumers: ConsumerMessages[] = [];
  private stopping = false;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NAMES) private readonly names: Names,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly push: PushRepository,
    private readonly readModel: ReadModelRepository,
    private readonly registry: ConnectionRegistry,
    @Inject(PUSH_PROVIDERS) private readonly providers: Map<Platform, PushProvider>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const p of this.names.allPartitions()) {
      const stream = this.names.stream(p);
      const durable = this.names.consumer('notifier', p);
      try {
        await this.jsm.consumers.info(stream, durable);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // A new notifier starts with what comes next: no wake-ups for history.
        await this.jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1000, max_deliver: -1 });
      }
      const messages = await (await this.js.consumers.get(stream, durable)).consume({ max_messages: 200 });
      this.consumers.push(messages);
      void this.run(messages);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const c of this.consumers) c.stop();
    // APNs keeps an HTTP/2 session open.
    for (const p of this.providers.values()) (p as Partial<{ close(): unknown }>).close?.();
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopping) break;
      const working = setInterval(() => m.working(), ACK_WAIT_MS / 2);
      try {
        settle(m, (await this.handle(m)) ? { kind: 'ack' } : { kind: 'nak', delayMs: 2_000 });
      } catch (err) {
        this.log.error({ seq: m.seq, err: (err as Error).message }, 'notifier failed on a message; will retry');
        settle(m, { kind: 'nak', delayMs: 2_000 });
      } finally {
        clearInterval(working);
      }
    }
  }

  /** false: not projected yet, try again later. */
  private async handle(m: JsMsg): Promise<boolean> {
    let raw: unknown;
    try {
      raw = m.json();
    } catch {
      return true;
    }
    const event = upcast(raw);
    if (event?.type !== 'MessageSent') return true;
    const partition = this.names.allPartitions().find((p) => m.subject.startsWith(`${this.names.namespace}.p${p}.`))!;
    if (!(await this.projected(partition, m.seq))) return false;

    const conversation = await this.readModel.conversation(event.conversationId);
    if (!conversation || !conversation.members.has(event.senderId)) return true; // refused by the rules: nothing to wake for
    const others = [...conversation.members].filter((u) => u !== event.senderId);
    if (others.length === 0) return true;
    const [presence, state, devices, active] = await Promise.all([
      this.registry.presence(others),
      this.push.unread(event.conversationId, others),
      this.push.devicesOf(others),
      this.push.lastActive(others),
    ]);
    const now = new Date();
    const decisions: PushDecision[] = [];
    const decide = (userId: string, decision: PushDecision['decision'], detail?: string) =>
      decisions.push({ userId, conversationId: event.conversationId, seq: m.seq, decision, ...(detail !== undefined && { detail }) });
    for (const [i, userId] of others.entries()) {
      const verdict = shouldWake(
        {
          userId, online: presence[i]!.status === 'online', lastReadSeq: state.get(userId)?.lastReadSeq ?? 0,
          devices: devices.get(userId) ?? [], ...(active.has(userId) && { lastActiveAt: active.get(userId)! }),
        },
        m.seq, now, this.config.CHAT_PUSH_ACTIVE_WITHIN,
      );
      if (verdict !== 'wake') {
        decide(userId, verdict);
        continue;
      }
      const claimed = await this.redis.set(this.names.pushCoalesceKey(userId), String(m.seq), 'PX', this.config.CHAT_PUSH_COALESCE, 'NX');
      if (claimed === null) {
        decide(userId, 'coalesced');
        continue;
      }
      const woken: string[] = [];
      const problems: string[] = [];
      for (const device of devices.get(userId)!) {
        const provider = this.providers.get(device.platform);
        if (!provider) {
          problems.push(`${device.platform}: not configured`);
          continue;
        }
        const result = await sendWithRetry(provider, {
          userId, deviceId: device.deviceId, platform: device.platform, token: device.token, at: now.toISOString(),
          conversations: [{ conversationId: event.conversationId, count: state.get(userId)?.unread ?? 1 }],
        });
        if (result.kind === 'sent') {
          woken.push(`${device.platform}:${device.deviceId}`);
          this.crashHook();
        }
        else {
          if (result.kind === 'gone') await this.push.forget(device);
          problems.push(`${device.platform}:${device.deviceId} ${result.kind}: ${result.reason}`);
        }
      }
      if (woken.length) decide(userId, 'woken', [...woken, ...problems].join('; '));
      else decide(userId, 'failed', problems.join('; '));
    }
    await this.push.record(decisions);
    return true;
  }

  private sends = 0;

  /** Test hook (CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS): die after a send, before recording and acking. */
  private crashHook(): void {
    const at = this.config.CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS;
    if (at === undefined || ++this.sends < at) return;
    writeSync(2, `test hook: notifier crashing after ${this.sends} sends\n`);
    process.kill(process.pid, 'SIGKILL');
  }

  private async projected(partition: number, seq: number): Promise<boolean> {
    const deadline = Date.now() + PROJECTION_WAIT_MS;
    for (;;) {
      if (((await this.readModel.checkpoints()).get(partition) ?? 0) >= seq) return true;
      if (Date.now() > deadline || this.stopping) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
