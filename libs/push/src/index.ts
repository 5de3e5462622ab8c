export * from './push.types';
export * from './webhook.provider';
export * from './fcm.provider';
export * from './apns.provider';
export * from './webpush.provider';
export * from './retry';
