import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ClientPayload } from '@chat/contracts';
import { ChatError } from '@chat/contracts';
import type { Config } from '@chat/config';
import { CONFIG } from '@chat/platform';
import { checkPushTarget } from '@chat/push';
import { PushRepository } from '@chat/storage';
import type { SocketCaller } from './local-connections';

/** Registrations a user may hold, across devices (docs/protocol.md). */
export const MAX_PUSH_REGISTRATIONS = 10;

/**
 * The device id of a registration from a connection whose token carries no `did`: derived
 * from the token, so that reconnecting and registering again replaces the registration
 * instead of adding one per connection.
 */
export function tokenDeviceId(platform: string, token: string): string {
  return `tok:${createHash('sha256').update(`${platform}\n${token}`).digest('hex').slice(0, 32)}`;
}

/** What a connection remembers of its registration (a device id that is not the token's `did`). */
export interface PushConnection {
  pushDeviceId?: string;
}

/** `push:register` / `push:unregister`: one registration per user and device. */
@Injectable()
export class PushDevices {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repository: PushRepository,
  ) {}

  async register(caller: SocketCaller, p: ClientPayload<'push:register'>, connection: PushConnection): Promise<void> {
    this.check(p);
    const deviceId = caller.deviceId ?? tokenDeviceId(p.platform, p.token);
    const stored = await this.repository.register({ userId: caller.userId, deviceId, platform: p.platform, token: p.token }, MAX_PUSH_REGISTRATIONS);
    if (!stored) {
      throw new ChatError('BAD_REQUEST', `at most ${MAX_PUSH_REGISTRATIONS} push registrations per user: push:unregister one from its device first`);
    }
    if (!caller.deviceId) connection.pushDeviceId = deviceId;
  }

  /** The caller's device; without a `did`, the registration this connection made (if any). */
  async unregister(caller: SocketCaller, connection: PushConnection): Promise<void> {
    const deviceId = caller.deviceId ?? connection.pushDeviceId;
    if (deviceId === undefined) return;
    await this.repository.unregister(caller.userId, deviceId);
    if (!caller.deviceId) connection.pushDeviceId = undefined;
  }

  private check(p: ClientPayload<'push:register'>): void {
    const c = this.config;
    const configured = { fcm: !!c.CHAT_FCM_PROJECT_ID, apns: !!c.CHAT_APNS_TEAM_ID, webpush: !!c.CHAT_VAPID_PUBLIC_KEY, webhook: c.CHAT_PUSH_WEBHOOK_HOSTS.length > 0 };
    if (!configured[p.platform]) {
      const why = p.platform === 'webhook' ? ' (CHAT_PUSH_WEBHOOK_HOSTS is empty)' : '';
      throw new ChatError('BAD_REQUEST', `platform: ${p.platform} is not configured on this server${why}`);
    }
    if (p.platform === 'webhook') {
      const target = checkPushTarget(p.token, { allowedHosts: c.CHAT_PUSH_WEBHOOK_HOSTS, allowLoopback: c.CHAT_PUSH_ALLOW_LOOPBACK });
      if (!target.ok) throw new ChatError('BAD_REQUEST', `token: ${target.reason}`);
    }
    if (p.platform === 'webpush') {
      let endpoint: unknown;
      try {
        endpoint = (JSON.parse(p.token) as { endpoint?: unknown } | null)?.endpoint;
      } catch {
        endpoint = undefined;
      }
      if (typeof endpoint !== 'string') throw new ChatError('BAD_REQUEST', 'token: a Web Push subscription JSON with an https endpoint');
      const target = checkPushTarget(endpoint, { allowLoopback: c.CHAT_PUSH_ALLOW_LOOPBACK });
      if (!target.ok) throw new ChatError('BAD_REQUEST', `token: endpoint: ${target.reason}`);
    }
    if ((p.platform === 'fcm' || p.platform === 'apns') && !/^[A-Za-z0-9:_.-]+$/.test(p.token)) throw new ChatError('BAD_REQUEST', 'token: not a device token');
  }
}
