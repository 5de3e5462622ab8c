import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Nest's default RPC filter turns any error into `{ status: 'error', message: 'Internal
 * server error' }`. The partition pump needs the error itself (its type decides between a
 * retry and a resync, its message goes to the log), so handlers rethrow it unchanged.
 */
@Catch()
export class RethrowFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
