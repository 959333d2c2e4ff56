/** How the lifecycle domain reaches the other services, without knowing Nest or ZeroMQ. */
import type { ServiceName } from '../../lib/paths.js';

export interface ServiceCaller {
  call<T>(service: ServiceName, pattern: string, data: unknown): Promise<T>;
  stream<T>(service: ServiceName, pattern: string, data: unknown): AsyncIterable<T>;
}
