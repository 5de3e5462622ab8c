/** What `npm run bench` and its load processes (load-worker.ts) say to each other over IPC. */

export interface ConversationSpec {
  /** The bench's own name for it; the gateway answers with the real id. */
  id: string;
  kind: 'direct' | 'group';
  /** The first member creates it and must be a client of this worker. */
  members: string[];
}

export interface Send {
  userId: string;
  conversationId: string;
  /** A reply in the thread of the message at this seq. */
  threadRootSeq?: number;
}

export interface LoadReport {
  sent: number;
  acked: number;
  errors: Record<string, number>;
  sendSeconds: number;
  /** Epoch ms (fractional), comparable across the load processes of this machine. */
  startedAt: number;
  lastAckAt: number;
  ackLatencies: number[];
}

export type WorkerCommand =
  | { type: 'connect'; url: string; target: 'chat' | 'relay'; userIds: string[] }
  | { type: 'create'; conversations: ConversationSpec[] }
  | { type: 'join'; joins: Array<{ userId: string; room: string }> }
  | { type: 'load'; sends: Send[]; rate: number; seconds: number; tag: string }
  | { type: 'collect' }
  | { type: 'cursors'; userIds: string[] }
  | { type: 'drop'; userIds: string[] }
  | { type: 'sendEach'; sends: Send[]; tag: string }
  | { type: 'storm'; url: string; users: Array<{ userId: string; cursor: string; expect: string[] }> }
  | { type: 'heavy'; userId: string; conversationId: string; seconds: number; sendsPerS: number; bodyBytes: number; historyLoops: number }
  | { type: 'close' };

/** What one heavy client got in a `heavy` run: its acks and refusals by code, and the bytes its queries were answered. */
export interface HeavyReport {
  acked: number;
  refused: Record<string, number>;
  historyAnswers: number;
  historyBytes: number;
}

export type WorkerReply =
  | { type: 'progress'; connected: number }
  | { type: 'connected'; connected: number }
  | { type: 'created'; ids: string[] }
  | { type: 'joined' }
  | { type: 'loaded'; report: LoadReport }
  | { type: 'collected'; deliveries: number; latencies: number[]; lastDeliveryAt: number }
  | { type: 'cursors'; cursors: Record<string, string> }
  | { type: 'dropped' }
  | { type: 'sent'; keys: string[] }
  | { type: 'stormed'; seconds: number; missing: string[] }
  | { type: 'heavied'; report: HeavyReport }
  | { type: 'closed' }
  | { type: 'error'; message: string };
