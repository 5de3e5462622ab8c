import type { Config } from '@chat/config';
import { ApnsProvider, FcmProvider, WebhookProvider, WebPushProvider, type Platform, type PushProvider } from '@chat/push';

/**
 * The providers this deployment has settings for; webhooks always (signed with
 * CHAT_PUSH_WEBHOOK_SECRET, to the hosts of CHAT_PUSH_WEBHOOK_HOSTS only). Every call has
 * CHAT_PUSH_TIMEOUT.
 */
export function pushProviders(c: Config): Map<Platform, PushProvider> {
  const timeoutMs = c.CHAT_PUSH_TIMEOUT;
  const providers = new Map<Platform, PushProvider>([
    ['webhook', new WebhookProvider(c.CHAT_PUSH_WEBHOOK_SECRET, { allowLoopbackHttp: c.CHAT_PUSH_ALLOW_LOOPBACK, allowedHosts: c.CHAT_PUSH_WEBHOOK_HOSTS, timeoutMs })],
  ]);
  if (c.CHAT_FCM_PROJECT_ID && c.CHAT_FCM_CLIENT_EMAIL && c.CHAT_FCM_PRIVATE_KEY) {
    providers.set('fcm', new FcmProvider({
      projectId: c.CHAT_FCM_PROJECT_ID, clientEmail: c.CHAT_FCM_CLIENT_EMAIL, privateKeyPem: c.CHAT_FCM_PRIVATE_KEY.replace(/\\n/g, '\n'),
      tokenUrl: c.CHAT_FCM_TOKEN_URL, endpoint: c.CHAT_FCM_ENDPOINT, timeoutMs,
    }));
  }
  if (c.CHAT_APNS_TEAM_ID && c.CHAT_APNS_KEY_ID && c.CHAT_APNS_PRIVATE_KEY && c.CHAT_APNS_BUNDLE_ID) {
    providers.set('apns', new ApnsProvider({
      teamId: c.CHAT_APNS_TEAM_ID, keyId: c.CHAT_APNS_KEY_ID, privateKeyPem: c.CHAT_APNS_PRIVATE_KEY.replace(/\\n/g, '\n'),
      bundleId: c.CHAT_APNS_BUNDLE_ID, endpoint: c.CHAT_APNS_ENDPOINT, timeoutMs,
    }));
  }
  if (c.CHAT_VAPID_PUBLIC_KEY && c.CHAT_VAPID_PRIVATE_KEY) {
    providers.set('webpush', new WebPushProvider({
      publicKey: c.CHAT_VAPID_PUBLIC_KEY, privateKey: c.CHAT_VAPID_PRIVATE_KEY, subject: c.CHAT_VAPID_SUBJECT, allowLoopbackHttp: c.CHAT_PUSH_ALLOW_LOOPBACK, timeoutMs,
    }));
  }
  return providers;
}
