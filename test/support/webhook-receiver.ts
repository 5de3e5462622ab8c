import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ChatEvent } from '@chat/contracts';
import { verifyWebhookSignature } from '@chat/push';
import { freePort, type AppProcess } from './app-process';
import { query } from './inspect';
import { TEST_ADMIN_TOKEN, type TestNamespace } from './namespace';
import { waitFor } from './wait';

export const HOOK_SECRET = 'test-integrator-webhook-secret-0123';

/** One call the receiver accepted (answered 2xx). */
export interface HookCall {
  id: string;
  type: string;
  conversationId: string;
  seq: number;
  event: ChatEvent;
  /** The signature matched the timestamp and the raw body, and the timestamp was within 5 minutes. */
  verified: boolean;
  /** Every key of the body, to hold it to the contract's shape. */
  keys: string[];
}

/** How the receiver answers for now. */
export type Behaviour = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'hang' };

/**
 * An integrator's receiver, as docs/operations.md shows one: it verifies each call's
 * signature and drops what it has by `id`. The test switches it between answering 2xx,
 * answering an error, hanging (accepting and never answering), and being down (the port
 * closed: connection refused), and reads what it accepted.
 */
export class WebhookReceiver {
  /** Accepted calls, first time per id, in arrival order. */
  readonly accepted: HookCall[] = [];
  /** Calls accepted again for an id already accepted (at least once: after restarts and replays). */
  readonly repeats: HookCall[] = [];
  /** Every request that reached the receiver, whatever it answered. */
  attempts = 0;
  private readonly seen = new Set<string>();
  private behaviour: Behaviour = { kind: 'ok' };
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<() => void>();

  private constructor(
    readonly port: number,
    private readonly secret: string,
  ) {}

  static async start(secret = HOOK_SECRET): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(await freePort(), secret);
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  answer(behaviour: Behaviour): void {
    this.behaviour = behaviour;
    if (behaviour.kind !== 'hang') for (const end of [...this.hanging]) end();
  }

  /** Listens (again) on the same port. */
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      this.attempts++;
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const b = this.behaviour;
        if (b.kind === 'hang') {
          // Held open until the sender gives up (its timeout) or the test lets go.
          const end = () => {
            this.hanging.delete(end);
            res.destroy();
          };
          this.hanging.add(end);
          return;
        }
        if (b.kind === 'status') {
          res.writeHead(b.status).end();
          return;
        }
        this.accept(req, body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every connection: calls are refused until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const end of [...this.hanging]) end();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  close(): Promise<void> {
    return this.down();
  }

  /** Accepted seqs of each conversation, in arrival order. */
  byConversation(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const c of this.accepted) out.set(c.conversationId, [...(out.get(c.conversationId) ?? []), c.seq]);
    return out;
  }

  /** Waits until every id in `ids` has been accepted. */
  async waitForAll(ids: string[], timeoutMs = 60_000): Promise<void> {
    await waitFor(`the receiver to accept ${ids.length} hooks (has ${ids.filter((id) => this.seen.has(id)).length})`, () => ids.every((id) => this.seen.has(id)), timeoutMs, 50);
  }

  private accept(req: IncomingMessage, body: string): void {
    const timestamp = String(req.headers['x-chat-timestamp']);
    const verified = verifyWebhookSignature(this.secret, timestamp, body, req.headers['x-chat-signature'] as string, { toleranceSec: 300 });
    const parsed = JSON.parse(body) as Omit<HookCall, 'verified' | 'keys'>;
    const call: HookCall = { ...parsed, verified, keys: Object.keys(parsed).sort() };
    if (this.seen.has(call.id)) {
      this.repeats.push(call);
      return;
    }
    this.seen.add(call.id);
    this.accepted.push(call);
  }
}

/** Every event members see, from the read model (one timeline row each), in seq order per conversation: what a receiver must get. */
export async function visibleEvents(ns: TestNamespace): Promise<Map<string, number[]>> {
  const rows = await query<{ conversation_id: string; seq: string }>(ns, 'SELECT conversation_id, seq FROM timeline ORDER BY conversation_id, seq');
  const out = new Map<string, number[]>();
  for (const r of rows) out.set(r.conversation_id, [...(out.get(r.conversation_id) ?? []), Number(r.seq)]);
  return out;
}

export const idsOf = (events: Map<string, number[]>): string[] => [...events].flatMap(([id, seqs]) => seqs.map((seq) => `${id}:${seq}`));

/** What `GET /v1/admin/webhooks` answers. */
export type AdminWebhooks = {
  enabled: boolean;
  url?: string;
  partitions: Array<{
    partition: number; stream: string; lastSeq: number; consumer?: string; position?: number; lag?: number; retrying: number;
    lastDeliveredAt?: string; lastError?: { message: string; at: string; conversationId: string; seq: number; attempts: number }; reportedAt?: string;
  }>;
  next?: string;
};

export async function adminWebhooks(app: AppProcess, query = ''): Promise<AdminWebhooks> {
  const res = await fetch(`${app.url}/v1/admin/webhooks${query}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /v1/admin/webhooks: ${res.status} ${await res.text()}`);
  return (await res.json()) as AdminWebhooks;
}

/** Waits until the webhooks have passed every event in the log (lag 0 everywhere). */
export async function webhooksCaughtUp(app: AppProcess, timeoutMs = 60_000): Promise<AdminWebhooks> {
  return waitFor('the webhooks to catch up with the log', async () => {
    const w = await adminWebhooks(app);
    return w.partitions.every((p) => p.lag === 0) ? w : undefined;
  }, timeoutMs, 100);
}
