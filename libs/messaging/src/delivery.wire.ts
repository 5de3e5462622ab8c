import type { ChatEvent } from '@chat/contracts';

/** One committed event and the users on the receiving node who should see it. */
export interface DeliveryItem {
  event: ChatEvent;
  users: string[];
  /** `nodeId/connectionId` of the connection that sent it: it has the ack, not a copy. */
  origin?: string;
}

/** What a projector publishes to one gateway node after a commit, in seq order. */
export interface DeliveryBatch {
  items: DeliveryItem[];
}

/** What a projector announces after each commit: everything up to `seq` is readable. */
export interface ProgressNotice {
  partition: number;
  seq: number;
}
