import { ArgumentsHost, Catch, HttpException, Inject } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ChatError, type AckError, type ErrorCode } from '@chat/contracts';
import { LOGGER } from '@chat/platform';

/** The socket's error codes as HTTP statuses (docs/protocol.md, "Server API"). */
export const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

const CODE_OF: Record<number, ErrorCode> = Object.fromEntries(Object.entries(STATUS_OF).map(([code, status]) => [status, code as ErrorCode]));

/** The server API's routes, whose refusals have the contract's body. */
const SERVER_API = '/v1/server/';

/**
 * Every answer of `/v1/server/*` that is not a success: `{ error: { code, message,
 * retryAfterMs? } }` with the code's status. The admin guard's 401 and 403 come out the same
 * way; a failure of a backend is 503 UNAVAILABLE (retry with the same ids), logged with the
 * request's id and never with the request's body.
 *
 * A global filter (APP_FILTER), since a body that is not JSON or is over the parser's limit
 * is refused before any route is chosen; every other path is answered as Nest answers it.
 */
@Catch()
export class ServerApiErrors extends BaseExceptionFilter {
  constructor(
    @Inject(LOGGER) private readonly log: Logger,
    adapterHost: HttpAdapterHost,
  ) {
    super(adapterHost.httpAdapter);
  }

  override catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(err, host);
    if (!host.switchToHttp().getRequest<Request>().path.startsWith(SERVER_API)) {
      // An admin route that carries out a command (the operator's moderation): its refusal
      // in the admin routes' error body, with the code's status.
      if (!(err instanceof ChatError)) return super.catch(err, host);
      const status = STATUS_OF[err.code];
      host.switchToHttp().getResponse<Response>().status(status).json({ statusCode: status, message: err.message, error: err.toAck().error });
      return;
    }
    const res = host.switchToHttp().getResponse<Response>();
    const error = this.errorOf(err, res);
    if (error.retryAfterMs !== undefined) res.setHeader('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
    res.status(STATUS_OF[error.code]).json({ error });
  }

  private errorOf(err: unknown, res: Response): AckError {
    if (err instanceof ChatError) return err.toAck().error;
    if (err instanceof HttpException) {
      const code = CODE_OF[err.getStatus()];
      if (code) return { code, message: messageOf(err) };
    }
    // Express's body parser: a request over its limit (413) or not readable; these say so themselves.
    const parser = err as { expose?: unknown; status?: unknown; message?: unknown };
    if (parser?.expose === true && typeof parser.status === 'number' && CODE_OF[parser.status] && typeof parser.message === 'string') {
      return { code: CODE_OF[parser.status]!, message: parser.message };
    }
    this.log.error({ reqId: res.getHeader('x-request-id'), err: (err as Error)?.message ?? String(err) }, 'server API request failed on a backend');
    return { code: 'UNAVAILABLE', message: 'a backend is unavailable; retry with the same ids' };
  }
}

function messageOf(err: HttpException): string {
  const body = err.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  return typeof message === 'string' ? message : err.message;
}
