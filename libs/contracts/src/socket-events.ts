import type { Ack } from './errors';
import type { ClientPayload } from './client-payloads.schema';
import type {
  ChatEvent,
  ConversationChanged,
  ConversationInfo,
  ConversationSummary,
  Message,
  MessageDeleted,
  MessageEdited,
  NotifyChanged,
  Presence,
  Receipt,
  Reaction,
  ReadMarker,
  Typing,
} from './shapes';

export interface SyncResult {
  next: string;
  events: ChatEvent[];
  hasMore: boolean;
  reset?: true;
  /** Extension: present on a snapshot (a sync without `since`, or a reset). */
  conversations?: ConversationSummary[];
}

/** Ack results per client event (docs/protocol.md "Client to server"). */
export interface AckResults {
  'conversation:create': { conversation: ConversationInfo };
  'conversation:add_members': { seq: number };
  'conversation:remove_members': { seq: number };
  'conversation:list': { conversations: ConversationSummary[]; next?: string };
  'message:send': { seq: number; sentAt: string; duplicate?: boolean };
  'message:edit': { seq: number };
  'message:delete': { seq: number };
  'reaction:add': { seq: number };
  'reaction:remove': { seq: number };
  sync: SyncResult;
  history: { messages: Message[]; hasMore: boolean };
  read: Record<string, never>;
  typing: Record<string, never>;
  'presence:subscribe': { presence: Presence[] };
  'presence:unsubscribe': Record<string, never>;
  'push:register': Record<string, never>;
  'push:unregister': Record<string, never>;
  'conversation:notify': Record<string, never>;
  receipts: { members: Receipt[] };
  'conversation:set_role': { seq: number };
  'conversation:mute_member': { seq: number };
  'conversation:unmute_member': { seq: number };
  'conversation:set_slow_mode': { seq: number };
  'message:report': Record<string, never>;
}

export type ClientToServerEvents = {
  [E in keyof AckResults]: (payload: ClientPayload<E>, ack: (result: Ack<AckResults[E]>) => void) => void;
};

export interface ServerToClientEvents {
  message: (event: Message) => void;
  'message:edited': (event: MessageEdited) => void;
  'message:deleted': (event: MessageDeleted) => void;
  reaction: (event: Reaction) => void;
  conversation: (event: ConversationChanged) => void;
  read: (event: ReadMarker) => void;
  notify: (event: NotifyChanged) => void;
  typing: (event: Typing) => void;
  presence: (event: Presence) => void;
  /** Extension: the gateway is shutting down; the client reconnects (elsewhere) and syncs. */
  draining: (event: { reconnectInMs: number }) => void;
}

/** Every event the server sends, at run time (documents and tests list them). */
export const SERVER_EVENT_NAMES = [
  'message', 'message:edited', 'message:deleted', 'reaction', 'conversation', 'read', 'notify', 'typing', 'presence', 'draining',
] as const satisfies ReadonlyArray<keyof ServerToClientEvents>;
type Unlisted = Exclude<keyof ServerToClientEvents, (typeof SERVER_EVENT_NAMES)[number]>;
/** Does not compile while an event of ServerToClientEvents is missing from the list. */
export const SERVER_EVENTS_ALL_LISTED: [Unlisted] extends [never] ? true : never = true;
