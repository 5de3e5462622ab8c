export * from './ids';
export * from './events';
export * from './commands';
export * from './conversation.state';
export * from './conversation.decider';
export * from './upcast';
export * from './text';
export * from './message.state';
