export * from './names';
export * from './nats.connection';
export * from './streams';
export * from './publish';
export * from './settle';
export * from './delivery.wire';
export * from './projection.watch';
export * from './jetstream.publisher';
