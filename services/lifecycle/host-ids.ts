/**
 * The host ids container root maps to, asked of the namespace service once: it reads them once
 * itself (/etc/subuid and /etc/subgid change only with an administrator's hand and a restart), so
 * asking again at every create and start would only add a round trip to each.
 */
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { IdMapInfo } from '../../lib/contracts/types.js';
import type { ServiceCaller } from './service-caller.js';

export class HostIds {
  private ids?: Promise<IdMapInfo>;

  constructor(private readonly services: ServiceCaller) {}

  get(): Promise<IdMapInfo> {
    if (!this.ids) {
      const asked = this.services.call<IdMapInfo>('namespace', NAMESPACE.idMap, {});
      this.ids = asked;
      asked.catch(() => {
        if (this.ids === asked) this.ids = undefined; // ask again next time
      });
    }
    return this.ids;
  }

  /** container root's host uid and gid, as storage and network take them */
  async owner(): Promise<{ rootUid: number; rootGid: number }> {
    const ids = await this.get();
    return { rootUid: ids.rootUid, rootGid: ids.rootGid };
  }
}
