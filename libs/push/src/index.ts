export * from './push.types';
export * from './webhook.provider';
export * from './fcm.provider';
export * from './apns.provider';
export * from './webpush.provider';
export * from './retry';
export * from './push.target';
export * from './guarded.http';
export * from './circuit.breaker';
export * from './push.sender';
// The one helper of the providers' internals that other callers of HTTP endpoints need.
export { retryAfterMs } from './push.http';
