export * from './connection.registry';
export * from './redis.clock';
export * from './route.table';
