import { MAX_SLOW_MODE_SECONDS } from '@chat/domain';

/** Members' sends remembered per process, at most. */
const MAX_ENTRIES = 50_000;

interface OwnSend {
  /** The send's `at`. */
  at: string;
  clientMsgId: string;
  /** The seq of the slow mode it was sent under: a slow mode set again later starts afresh. */
  slowModeSeq: number;
}

/**
 * This process's own recent sends to conversations in slow mode, by member: what the read
 * model may not show yet (a send is acked before it is projected), so that a member's
 * second send through the same process within the window is refused before it is
 * appended. Sends through other processes are found in the read model (`lastSend`).
 */
export class OwnSends {
  private readonly sends = new Map<string, OwnSend>();

  get(conversationId: string, userId: string, now = Date.now()): OwnSend | undefined {
    const key = sendKey(conversationId, userId);
    const send = this.sends.get(key);
    // Older than the longest slow mode: it can hold nothing back any more.
    if (send && now - Date.parse(send.at) > MAX_SLOW_MODE_SECONDS * 1000) {
      this.sends.delete(key);
      return undefined;
    }
    return send;
  }

  note(conversationId: string, userId: string, send: OwnSend): void {
    const key = sendKey(conversationId, userId);
    this.sends.delete(key);
    this.sends.set(key, send);
    // The oldest noted first: a Map iterates in insertion order.
    if (this.sends.size > MAX_ENTRIES) this.sends.delete(this.sends.keys().next().value!);
  }

  /** A send that never reached the log is no send: the member may send again at once. */
  forget(conversationId: string, userId: string, clientMsgId: string): void {
    const key = sendKey(conversationId, userId);
    if (this.sends.get(key)?.clientMsgId === clientMsgId) this.sends.delete(key);
  }
}

function sendKey(conversationId: string, userId: string): string {
  return `${conversationId}\n${userId}`;
}
