/**
 * The one domain error carried everywhere: services throw it, the transport puts
 * `{code, message, details}` on the wire, clients rebuild it. Domain classes use it
 * without knowing about Nest or ZeroMQ.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // a request (or CLI input) failed validation
  | 'NOT_FOUND' // image, container, pattern ... does not exist
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION' // the host cannot do what was asked (e.g. a limit that cannot be enforced)
  | 'UNAVAILABLE' // a service did not answer
  | 'TOO_LARGE' // a message over the size cap
  | 'UNIMPLEMENTED' // unknown pattern, or a flag not supported yet
  | 'INTERNAL';

export interface WireError {
  code: ErrorCode | string;
  message: string;
  details?: unknown;
}

export class NestboxError extends Error {
  readonly code: ErrorCode | string;
  readonly details?: unknown;

  constructor(code: ErrorCode | string, message: string, details?: unknown) {
    super(message);
    this.name = 'NestboxError';
    this.code = code;
    this.details = details;
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(err: unknown): NestboxError {
    if (err instanceof NestboxError) return err;
    if (err && typeof err === 'object' && typeof (err as WireError).message === 'string') {
      const w = err as WireError;
      return new NestboxError(typeof w.code === 'string' ? w.code : 'INTERNAL', w.message, w.details);
    }
    if (typeof err === 'string') return new NestboxError('INTERNAL', err);
    return new NestboxError('INTERNAL', 'unknown error', err);
  }

  /** Any thrown value as a wire error; unexpected errors keep their message, not their stack. */
  static toWire(err: unknown): WireError {
    if (err instanceof NestboxError) return err.toWire();
    if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
    return NestboxError.fromWire(err).toWire();
  }
}
