export * from './errors';
export * from './shapes';
export * from './client-payloads.schema';
export * from './server-payloads.schema';
export * from './cursors';
export * from './binary';
export * from './socket-events';
export * from './http-answers.schema';
