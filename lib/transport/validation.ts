/**
 * Request validation at the service edge (DESIGN.md "Contracts"): DTO classes with class-validator
 * decorators, checked by Nest's ValidationPipe. An invalid body gets an INVALID_ARGUMENT reply
 * that names every bad property, never a crash and never "Internal server error".
 *
 * Remember (STACK.md): DTOs must be imported as values, not with `import type`, or their
 * metadata becomes `Function` and validation silently passes.
 */
import { ValidationPipe, type INestMicroservice, type ValidationError } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { WireError } from '../errors.js';
import { RpcErrorFilter } from './rpc-error.filter.js';

export interface InvalidProperty {
  /** Dotted path from the request body: `name`, `mounts.0.source`. */
  property: string;
  /** class-validator's constraint name -> message. */
  constraints: Record<string, string>;
}

/** Flattens class-validator's error tree into one entry per failing property path. */
export function flattenValidationErrors(errors: ValidationError[], parentPath = ''): InvalidProperty[] {
  const out: InvalidProperty[] = [];
  for (const error of errors) {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    if (error.constraints && Object.keys(error.constraints).length > 0) {
      const constraints: Record<string, string> = {};
      for (const [name, message] of Object.entries(error.constraints)) {
        // Messages start with the bare property name; a nested one reads better with its path.
        constraints[name] =
          parentPath && message.startsWith(`${error.property} `) ? `${path}${message.slice(error.property.length)}` : message;
      }
      out.push({ property: path, constraints });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, path));
  }
  return out;
}

/** `{code: 'INVALID_ARGUMENT', message: 'invalid request: name must be a string; ...', details}` */
export function validationErrorToWire(errors: ValidationError[]): WireError {
  const details = flattenValidationErrors(errors);
  const messages = details.flatMap((d) => Object.values(d.constraints));
  return {
    code: 'INVALID_ARGUMENT',
    message: `invalid request: ${messages.length ? messages.join('; ') : 'rejected by validation'}`,
    details,
  };
}

/**
 * The pipe every service installs: unknown properties are refused (whitelist +
 * forbidNonWhitelisted), bodies become DTO instances (transform).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new RpcException(validationErrorToWire(errors)),
  });
}

/** What every nestbox microservice installs: the validation pipe and the error filter. */
export function useTransportDefaults(app: INestMicroservice): INestMicroservice {
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  return app;
}
