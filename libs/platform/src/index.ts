export * from './tokens';
export * from './logger';
export * from './infra.module';
export * from './health.module';
export * from './health.controller';
export * from './bootstrap';
export * from './admin.guard';
export * from './metrics';
