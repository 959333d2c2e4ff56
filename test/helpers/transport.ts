/** Small pieces the transport tests share: what a request rejected with, and a stream's chunks. */
import { NestboxError } from '../../lib/errors.js';

/** The NestboxError `promise` rejects with; fails the test when it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<NestboxError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof NestboxError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}
