export * from './commands.module';
export * from './commands.service';
export * from './conversation.cache';
export * from './ids';
export * from './membership.guard';
export * from './rate-limiter';
export * from './send.deduplicator';
export * from './thread.roots';
