import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the system exports, in one registry per process, served as Prometheus text
 * at `/metrics`. The names are part of the operations contract (alerts, the admin page).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'chat_' });

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  connections: new Gauge({ name: 'chat_connections', help: 'Open Socket.IO connections on this gateway node', labelNames: ['node'], registers: [registry] }),
  handshakes: new Counter({ name: 'chat_handshakes_total', help: 'Socket.IO handshakes answered, by result (admitted, or the connect_error message)', labelNames: ['result'], registers: [registry] }),
  admissionPoolWaits: new Counter({
    name: 'chat_admission_pool_waits_total',
    help: 'Handshake batches that found every Postgres connection busy past the pool timeout and queued for another turn',
    registers: [registry],
  }),
  eventsReceived: new Counter({ name: 'chat_events_received_total', help: 'Client events received, by event name', labelNames: ['event'], registers: [registry] }),
  sends: new Counter({ name: 'chat_sends_total', help: 'message:send answered, by result (accepted, duplicate, or the error code)', labelNames: ['result'], registers: [registry] }),
  refusals: new Counter({ name: 'chat_refusals_total', help: 'Client events answered with an error, by event and code', labelNames: ['event', 'code'], registers: [registry] }),
  deliveryLatency: new Histogram({
    name: 'chat_delivery_latency_seconds',
    help: 'From the send being acknowledged (sentAt) to the message being emitted to a socket',
    buckets: latencyBuckets,
    registers: [registry],
  }),
  deliveries: new Counter({ name: 'chat_deliveries_total', help: 'Events emitted to sockets, by event type', labelNames: ['type'], registers: [registry] }),
  slowClients: new Counter({ name: 'chat_slow_clients_closed_total', help: 'Transports closed because too much waited for them', registers: [registry] }),
  answerBytes: new Counter({ name: 'chat_answer_bytes_total', help: 'JSON bytes of the items of sync, history and conversation:list answers', labelNames: ['query'], registers: [registry] }),
  queryLatency: new Histogram({ name: 'chat_query_latency_seconds', help: 'sync, history and search answer time', labelNames: ['query'], buckets: latencyBuckets, registers: [registry] }),
  presenceTransitions: new Counter({ name: 'chat_presence_transitions_total', help: 'Presence transitions announced, by status', labelNames: ['status'], registers: [registry] }),
  typingRelayed: new Counter({ name: 'chat_typing_total', help: 'Typing events, relayed or dropped by the 3 s window', labelNames: ['result'], registers: [registry] }),
  projectorBatchSize: new Histogram({
    name: 'chat_projector_batch_size',
    help: 'Events per projector batch (one transaction)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    registers: [registry],
  }),
  projectorBatchSeconds: new Histogram({ name: 'chat_projector_batch_seconds', help: 'Time to load, fold and commit one batch', buckets: latencyBuckets, registers: [registry] }),
  projectionLag: new Gauge({ name: 'chat_projection_lag_events', help: 'Events in the log not yet projected, per partition', labelNames: ['partition'], registers: [registry] }),
  searchProjectionLag: new Gauge({ name: 'chat_search_projection_lag_events', help: 'Events in the log not yet in the search index, per partition', labelNames: ['partition'], registers: [registry] }),
  deliveryFailures: new Counter({ name: 'chat_live_delivery_failures_total', help: 'Committed events whose live delivery was given up (their clients catch up by sync)', registers: [registry] }),
  webhookCalls: new Counter({
    name: 'chat_webhooks_total',
    help: 'Integrator webhook outcomes: delivered (a 2xx), failed (one call that was not; it is tried again), skipped (an event nobody sees)',
    labelNames: ['result'],
    registers: [registry],
  }),
  publishAckChecks: new Counter({
    name: 'chat_publish_ack_checks_total',
    help: 'Publish acks of a suspect stream read back (after a leader change): verified, corrected (the ack named the wrong seq: nats-server clseq bug), unresolved (answered UNAVAILABLE)',
    labelNames: ['result'],
    registers: [registry],
  }),
  projectedEvents: new Counter({ name: 'chat_projected_events_total', help: 'Events projected (applied or refused by the rules)', registers: [registry] }),
};
