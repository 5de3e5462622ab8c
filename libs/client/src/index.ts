export * from './chat.client';
export * from './cursor.store';
export * from './outbox';
export * from './typing.throttle';
