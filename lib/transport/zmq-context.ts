/**
 * What a handler can learn about the message it serves (`@Ctx() ctx: ZmqContext`).
 */
import { BaseRpcContext } from '@nestjs/microservices';

export type ZmqMessageKind = 'request' | 'event';

export class ZmqContext extends BaseRpcContext<[pattern: string, kind: ZmqMessageKind]> {
  getPattern(): string {
    return this.args[0];
  }

  /** Events have no caller waiting: a failure can only be logged. */
  isEvent(): boolean {
    return this.args[1] === 'event';
  }
}
