/** PROTOCOL.md "Acknowledgements and errors": the only codes a client ever sees. */
export const ERROR_CODES = [
    'BAD_REQUEST',
    'PAYLOAD_TOO_LARGE',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'NOT_FOUND',
    'RATE_LIMITED',
    'UNAVAILABLE',
];
/** A refusal that travels up to the socket handler and becomes a `{ ok: false }` ack. */
export class ChatError extends Error {
    code;
    retryAfterMs;
    constructor(code, message, retryAfterMs) {
        super(message);
        this.code = code;
        this.retryAfterMs = retryAfterMs;
        this.name = 'ChatError';
    }
    toAck() {
        const error = { code: this.code, message: this.message };
        if (this.retryAfterMs !== undefined)
            error.retryAfterMs = this.retryAfterMs;
        return { ok: false, error };
    }
}
