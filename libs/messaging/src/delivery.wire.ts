import type { ChatEvent, Typing } from '@chat/contracts';

/** One event and the users on the receiving node who should see it. */
export interface DeliveryItem {
  event: ChatEvent | Typing;
  users: string[];
  /** `nodeId/connectionId` of the connection that sent it: it has the ack, not a copy. */
  origin?: string;
  /** The event's W3C traceparent, when tracing: the emit is a span of the message's trace. */
  trace?: string;
  /**
   * The users' sockets join the conversation's room with this event (it just became
   * large, or they were added to it): the room's later events come on its subject.
   */
  join?: true;
}

/**
 * What a projector publishes to one gateway node after a commit (committed events of small
 * conversations, in seq order), and what a gateway publishes for typing.
 */
export interface DeliveryBatch {
  items: DeliveryItem[];
}

/** What goes to the room subject of a large conversation: every member there sees it. */
export interface RoomBatch {
  items: Array<{ event: ChatEvent | Typing; origin?: string; trace?: string }>;
}

/** What a projector announces after each commit: everything up to `seq` is readable. */
export interface ProgressNotice {
  partition: number;
  seq: number;
}

/** What the admin API announces on `Names.blocks()` after writing a block or an unblock. */
export interface BlockNotice {
  userId: string;
  blocked: boolean;
}
