export * from './chat.client.js';
export * from './cursor.store.js';
export * from './event.dedupe.js';
export * from './outbox.js';
export * from './outbox.store.js';
export * from './own.events.js';
export * from './token.subject.js';
export * from './typing.throttle.js';
