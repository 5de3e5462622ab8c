/** Typing stops being news after this much silence (docs/protocol.md). */
export const TYPING_IDLE_MS = 3_000;

/**
 * Turns keystrokes into typing events: one `start` when typing begins, `stop` after 3 s
 * without a keystroke, and a new `start` only after such a silence. Never one per keystroke.
 */
export class TypingThrottle {
  private readonly active = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly emit: (conversationId: string, state: 'start' | 'stop') => void,
    private readonly idleMs = TYPING_IDLE_MS,
  ) {}

  keystroke(conversationId: string): void {
    const timer = this.active.get(conversationId);
    if (timer) clearTimeout(timer);
    else this.emit(conversationId, 'start');
    this.active.set(conversationId, setTimeout(() => this.stop(conversationId), this.idleMs));
  }

  /** Typing ended (message sent, field cleared): `stop` now, if a `start` went out. */
  stop(conversationId: string): void {
    const timer = this.active.get(conversationId);
    if (!timer) return;
    clearTimeout(timer);
    this.active.delete(conversationId);
    this.emit(conversationId, 'stop');
  }

  clear(): void {
    for (const timer of this.active.values()) clearTimeout(timer);
    this.active.clear();
  }
}
