import type { Delivery } from './timeline.projection';

/** Room for the `{"items":[...]}` around the items. */
const ENVELOPE_BYTES = 64;

/** One NATS message to publish: to a node's subject or a room's. */
export type Outgoing = { node: string; data: string } | { room: string; data: string };

/** Items bound for one subject, and the messages already filled up for it. */
class Lane {
  private readonly open = new Map<string, { items: string[]; bytes: number }>();
  private full: Outgoing[] = [];
  /** Conversations with an item here: a switch to the other path must publish this one first. */
  readonly conversations = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly to: (key: string, data: string) => Outgoing,
  ) {}

  add(key: string, conversationId: string, item: string): void {
    const bytes = Buffer.byteLength(item) + 1;
    let pending = this.open.get(key);
    if (pending && pending.bytes + bytes > this.limit) {
      this.full.push(this.to(key, envelope(pending.items)));
      pending = undefined;
    }
    if (!pending) this.open.set(key, (pending = { items: [], bytes: ENVELOPE_BYTES }));
    pending.items.push(item);
    pending.bytes += bytes;
    this.conversations.add(conversationId);
  }

  take(): Outgoing[] {
    const out = this.full;
    for (const [key, pending] of this.open) out.push(this.to(key, envelope(pending.items)));
    this.full = [];
    this.open.clear();
    this.conversations.clear();
    return out;
  }
}

/**
 * The NATS messages of one round of deliveries, built as text: each event is encoded
 * once however many nodes it goes to, and no message is over the server's max_payload
 * (a burst of large messages goes out as several messages, never as one the server
 * refuses). An item too large on its own is split by its users.
 */
export class DeliveryPayloads {
  private readonly limit: number;
  readonly nodes: Lane;
  readonly rooms: Lane;
  private readonly encoded = new WeakMap<Delivery, string>();

  constructor(maxPayload: number) {
    // Half the server's limit: headroom for the subject and the protocol line.
    this.limit = Math.max(4_096, Math.floor(maxPayload / 2));
    this.nodes = new Lane(this.limit, (node, data) => ({ node, data }));
    this.rooms = new Lane(this.limit, (room, data) => ({ room, data }));
  }

  /** `join`: the users' sockets join the conversation's room with this event. */
  addToNodes(d: Delivery, usersByNode: ReadonlyMap<string, string[]>, join: boolean): void {
    const head = `{"event":${this.json(d)},"users":`;
    const tail = `${extras(d)}${join ? ',"join":true' : ''}}`;
    for (const [node, users] of usersByNode) this.addUsers(d, node, users, head, tail);
  }

  addToRoom(d: Delivery): void {
    const item = `{"event":${this.json(d)}${extras(d)}}`;
    this.rooms.add(d.event.conversationId, d.event.conversationId, item);
  }

  private addUsers(d: Delivery, node: string, users: string[], head: string, tail: string): void {
    const item = `${head}${JSON.stringify(users)}${tail}`;
    if (users.length > 1 && Buffer.byteLength(item) + ENVELOPE_BYTES > this.limit) {
      // Too large with every user: the same event in two items, each with half of them.
      const half = Math.ceil(users.length / 2);
      this.addUsers(d, node, users.slice(0, half), head, tail);
      this.addUsers(d, node, users.slice(half), head, tail);
      return;
    }
    this.nodes.add(node, d.event.conversationId, item);
  }

  private json(d: Delivery): string {
    let json = this.encoded.get(d);
    if (json === undefined) this.encoded.set(d, (json = JSON.stringify(d.event)));
    return json;
  }
}

/** The item's fields beside the event: the sending connection, the trace. */
function extras(d: Delivery): string {
  return `${d.origin !== undefined ? `,"origin":${JSON.stringify(d.origin)}` : ''}${d.trace !== undefined ? `,"trace":${JSON.stringify(d.trace)}` : ''}`;
}

function envelope(items: string[]): string {
  return `{"items":[${items.join(',')}]}`;
}
