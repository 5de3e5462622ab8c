/** docs/protocol.md "Acknowledgements and errors": the only codes a client ever sees. */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AckError {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

export type AckFailure = { ok: false; error: AckError };
export type Ack<T extends object> = ({ ok: true } & T) | AckFailure;

/** A refusal that travels up to the socket handler and becomes a `{ ok: false }` ack. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatError';
  }

  toAck(): AckFailure {
    const error: AckError = { code: this.code, message: this.message };
    if (this.retryAfterMs !== undefined) error.retryAfterMs = this.retryAfterMs;
    return { ok: false, error };
  }
}
