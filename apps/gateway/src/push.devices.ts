import { Inject, Injectable } from '@nestjs/common';
import type { ClientPayload } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { Config } from '@chat/config';
import { CONFIG } from '@chat/platform';
import { PushRepository } from '@chat/storage';
import type { Caller } from './commands.service';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** An https URL, or http on loopback where allowed (local receivers and tests). */
function deliverable(url: unknown, allowLoopback: boolean): boolean {
  try {
    const u = new URL(String(url));
    return u.protocol === 'https:' || (allowLoopback && u.protocol === 'http:' && LOOPBACK.test(u.hostname));
  } catch {
    return false;
  }
}

/** `push:register` / `push:unregister`: one registration per user and device. */
@Injectable()
export class PushDevices {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repository: PushRepository,
  ) {}

  async register(caller: Caller, p: ClientPayload<'push:register'>, connectionId: string): Promise<void> {
    this.check(p);
    await this.repository.register({ userId: caller.userId, deviceId: caller.deviceId ?? connectionId, platform: p.platform, token: p.token });
  }

  async unregister(caller: Caller, connectionId: string): Promise<void> {
    await this.repository.unregister(caller.userId, caller.deviceId ?? connectionId);
  }

  private check(p: ClientPayload<'push:register'>): void {
    const c = this.config;
    const configured = { fcm: !!c.CHAT_FCM_PROJECT_ID, apns: !!c.CHAT_APNS_TEAM_ID, webpush: !!c.CHAT_VAPID_PUBLIC_KEY, webhook: true };
    if (!configured[p.platform]) throw new ChatError('BAD_REQUEST', `platform: ${p.platform} is not configured on this server`);
    if (p.platform === 'webhook' && !deliverable(p.token, c.CHAT_PUSH_ALLOW_LOOPBACK)) throw new ChatError('BAD_REQUEST', 'token: a webhook is an https URL (or http on loopback)');
    if (p.platform === 'webpush') {
      let endpoint: unknown;
      try {
        endpoint = (JSON.parse(p.token) as { endpoint?: unknown }).endpoint;
      } catch {
        endpoint = undefined;
      }
      if (!deliverable(endpoint, c.CHAT_PUSH_ALLOW_LOOPBACK)) throw new ChatError('BAD_REQUEST', 'token: a Web Push subscription JSON with an https endpoint');
    }
    if ((p.platform === 'fcm' || p.platform === 'apns') && !/^[A-Za-z0-9:_.-]+$/.test(p.token)) throw new ChatError('BAD_REQUEST', 'token: not a device token');
  }
}
