export * from './errors';
export * from './shapes';
export * from './client-payloads.schema';
export * from './socket-events';
