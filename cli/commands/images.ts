/** `nestbox images` */
import { STORAGE } from '../../lib/contracts/patterns.js';
import { clientFor, ensureServices } from '../services.js';
import { ago, table } from './table.js';

export async function imagesCommand(): Promise<number> {
  await ensureServices();
  const client = clientFor('storage');
  try {
    const list = await client.request<{ id: string; ref?: string; created?: string }[]>(STORAGE.listImages, {});
    process.stdout.write(table(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED'],
      list.map((i) => {
        if (!i.ref) return ['<none>', '<none>', i.id.slice(7, 19), i.created ? ago(i.created) : ''];
        if (i.ref.includes('@')) return [i.ref.slice(0, i.ref.indexOf('@')), '<none>', i.id.slice(7, 19), i.created ? ago(i.created) : '']; // pulled by digest
        const colon = i.ref.lastIndexOf(':');
        return [i.ref.slice(0, colon), i.ref.slice(colon + 1), i.id.slice(7, 19), i.created ? ago(i.created) : ''];
      }),
    ));
    return 0;
  } finally {
    client.close();
  }
}
