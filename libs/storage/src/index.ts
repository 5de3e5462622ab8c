export * from './database';
export * from './migrate';
export * from './projection.rows';
export * from './projection.repository';
export * from './read-model.repository';
export * from './sync.cursor';
export * from './projection-schema';
