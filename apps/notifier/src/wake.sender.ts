import type { Logger } from 'pino';
import type { Platform, PushProvider, PushSender } from '@chat/push';
import { GroupCommit, type PushDecision, type PushDevice, type PushRepository } from '@chat/storage';
import { sentDecision, type WakePlan } from './batch.decider';

export interface WakeSenderDeps {
  sender: Pick<PushSender, 'send'>;
  providers: ReadonlyMap<Platform, PushProvider>;
  store: Pick<PushRepository, 'record' | 'forget'>;
  /** Runs after each wake-up a provider took (the crash test hook). */
  afterSend: () => void;
  log: Pick<Logger, 'warn'>;
}

/** Decisions of wake-ups that end at about the same time go in one statement. */
const RECORD_INTERVAL_MS = 5;

/**
 * Sends a claimed wake plan to each of the user's devices through the PushSender (bounded,
 * retried with backoff, circuit breakers per endpoint) and records the decision on the
 * plan's first message once every device has its outcome: `woken` when one took it, else
 * `failed`, with each device's answer and how many tries it took. A token the provider
 * reports gone is removed.
 */
export class WakeSender {
  private readonly decisions: GroupCommit<PushDecision>;

  constructor(private readonly deps: WakeSenderDeps) {
    this.decisions = new GroupCommit((ds) => deps.store.record(ds), (d) => deps.store.record([d]), RECORD_INTERVAL_MS);
  }

  /** Resolves once the decision is recorded; rejects when recording it failed. */
  async wake(plan: WakePlan, at: string): Promise<void> {
    const results = await Promise.all(plan.devices.map((device) => this.toDevice(plan, device, at)));
    await this.decisions.commit(sentDecision(plan, {
      kind: 'sent',
      woken: results.flatMap((r) => (r.woken ? [r.woken] : [])),
      problems: results.flatMap((r) => (r.problem ? [r.problem] : [])),
    }));
  }

  private async toDevice(plan: WakePlan, device: PushDevice, at: string): Promise<{ woken?: string; problem?: string }> {
    const provider = this.deps.providers.get(device.platform);
    if (!provider) return { problem: `${device.platform}: not configured` };
    const result = await this.deps.sender.send(provider, {
      userId: plan.userId, deviceId: device.deviceId, platform: device.platform, token: device.token, at, conversations: plan.conversations,
    });
    const name = `${device.platform}:${device.deviceId}`;
    const tries = result.attempts > 1 ? ` (${result.attempts} tries)` : '';
    if (result.kind === 'sent') {
      this.deps.afterSend();
      return { woken: `${name}${tries}` };
    }
    if (result.kind === 'gone') {
      await this.deps.store.forget(device).catch((err: Error) => this.deps.log.warn({ userId: plan.userId, deviceId: device.deviceId, err: err.message }, 'removing a gone token failed'));
    }
    return { problem: `${name} ${result.kind}: ${result.reason}${tries}` };
  }
}
