export * from './connection.registry';
