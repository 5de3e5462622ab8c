export type Platform = 'fcm' | 'apns' | 'webpush' | 'webhook';

/** A wake-up for one device: which conversations have news, never what the news is. */
export interface WakeUp {
  userId: string;
  deviceId: string;
  platform: Platform;
  token: string;
  conversations: Array<{ conversationId: string; count: number }>;
  at: string;
}

/**
 * `gone`: the provider says the token no longer exists (remove it).
 * `retry`: 5xx, 429 or a network error; `afterMs` from Retry-After when the provider sent one.
 * `failed`: any other 4xx, or a request we refuse to make.
 */
export type SendResult =
  | { kind: 'sent' }
  | { kind: 'gone'; reason: string }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'failed'; reason: string };

export interface PushProvider {
  readonly platform: Platform;
  send(w: WakeUp): Promise<SendResult>;
  /** The server a wake-up goes to, for per-endpoint limits and circuit breakers; the platform when there is one server. */
  endpointOf?(w: WakeUp): string;
  /** Ends kept connections. */
  close?(): void;
}
