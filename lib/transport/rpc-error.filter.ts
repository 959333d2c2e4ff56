/**
 * Makes handler failures reach the caller as `{code, message, details}`.
 *
 * Nest's default BaseRpcExceptionFilter turns anything that is not an RpcException into
 * `{status: 'error', message: 'Internal server error'}`, so a NestboxError('NOT_FOUND') thrown by
 * a domain class would lose its code. Install this filter globally in every service:
 *
 *   app.useGlobalFilters(new RpcErrorFilter());   // or useTransportDefaults(app)
 */
import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { NestboxError, type WireError } from '../errors.js';
import { errorToWire } from './wire.js';
import { ZmqContext } from './zmq-context.js';

/** An error as the wire carries it; an RpcException contributes what it wraps. */
export function rpcErrorToWire(err: unknown): WireError {
  return err instanceof RpcException ? errorToWire(err.getError()) : errorToWire(err);
}

@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const wire = rpcErrorToWire(exception);
    const context = host.getArgByIndex(1);
    const isEvent = context instanceof ZmqContext && context.isEvent();
    const expected = exception instanceof NestboxError || exception instanceof RpcException;
    if (!expected) {
      // Not a domain error: a bug or an unexpected failure. Keep the stack in the service log.
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    } else if (isEvent) {
      // An event has nobody to answer to; this line is all that remains of the failure.
      this.logger.warn(`event "${context.getPattern()}" failed: ${wire.code} ${wire.message}`);
    }
    return throwError(() => wire);
  }
}
