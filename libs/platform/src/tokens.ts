/** Injection tokens for the infrastructure every app shares. */
export const CONFIG = Symbol('CONFIG');
export const NATS = Symbol('NATS');
export const JETSTREAM = Symbol('JETSTREAM');
export const JETSTREAM_MANAGER = Symbol('JETSTREAM_MANAGER');
/** Appends to the log (`LogPublisher`): JetStream publishes without nats.js's per-request costs. */
export const LOG_PUBLISHER = Symbol('LOG_PUBLISHER');
export const PG_POOL = Symbol('PG_POOL');
export const REDIS = Symbol('REDIS');
export const NAMES = Symbol('NAMES');
export const LOGGER = Symbol('LOGGER');
export const NODE_ID = Symbol('NODE_ID');
export const BLOBS = Symbol('BLOBS');
export const TIERED = Symbol('TIERED');
/** The attachments' S3 objects (presigned URLs, HEAD, DELETE): @chat/storage AttachmentObjects. */
export const ATTACHMENT_OBJECTS = Symbol('ATTACHMENT_OBJECTS');
