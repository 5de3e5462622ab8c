import { z } from 'zod';

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

export const ackErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  retryAfterMs: z.number().int().min(0).optional().describe('RATE_LIMITED: when to try again.'),
}).describe('Why a command or request was refused.');
export type AckError = z.infer<typeof ackErrorSchema>;

export const ackFailureSchema = z.object({ ok: z.literal(false), error: ackErrorSchema }).describe('A refused command.');
export type AckFailure = z.infer<typeof ackFailureSchema>;
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
