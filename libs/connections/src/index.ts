export * from './connection.registry';
export * from './redis.clock';
