import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/** The oldest server whose JetStream features this code relies on. */
const MIN_SERVER = [2, 9, 0] as const;

export async function connectNats(servers: string[], name: string): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name,
    // Keep trying forever: while NATS is away the gateway answers UNAVAILABLE, and the
    // connection must come back on its own when the server does.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A server cut off from the network (rather than closed) says nothing: only unanswered
    // pings tell. Until then every publish through it times out, so the client must find
    // out within seconds and move to another node of the cluster: at most about
    // pingInterval x (maxPingOut + 1), 6-8 s here (10 s x 3 before: up to 30 s of UNAVAILABLE).
    pingInterval: 2_000,
    maxPingOut: 3,
    // Each attempt to reach a server, reconnects included (20 s by default): the first
    // server tried again after such a disconnect is the one that went silent, and a
    // cut-off server answers nothing, not even a refusal.
    timeout: 2_000,
    // Every request (a JetStream publish is one) would otherwise capture a stack trace.
    noAsyncTraces: true,
  });
  assertServer(nc);
  return nc;
}

function assertServer(nc: NatsConnection): void {
  const info = nc.info;
  if (!info) throw new Error('nats: no server info after connect');
  const version = info.version.split('.').map((n: string) => parseInt(n, 10));
  const tooOld = MIN_SERVER.some((min, i) => {
    const have = version[i] ?? 0;
    const earlier = MIN_SERVER.slice(0, i).every((m, j) => (version[j] ?? 0) === m);
    return earlier && have < min;
  });
  if (tooOld) throw new Error(`nats: server ${info.version} is older than ${MIN_SERVER.join('.')}`);
  if (!info.jetstream) throw new Error(`nats: server ${info.version} at ${info.host}:${info.port} has no JetStream (start it with -js)`);
}
