export * from './chat.client.js';
export * from './cursor.store.js';
export * from './outbox.js';
export * from './typing.throttle.js';
