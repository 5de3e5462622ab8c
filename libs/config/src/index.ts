export * from './duration';
export * from './config.schema';
