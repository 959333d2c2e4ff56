/**
 * The commit's layer tar, written in the keeper namespace: `nestbox-runtime join --pid PID
 * --start-time T -- node commit-worker.js --dir UPPER --runtime RUNTIME` with its stdout on a new
 * file, so owners read as the container sees them (as rootfs-export.ts does for export). The
 * upper dir is read as it is: a running container is not paused (see Storage.commit).
 */
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import { KeeperWorker, exitText, type KeeperExit, type KeeperSource } from './keeper-run.js';

/**
 * The files the runtime mounts over (services/network/container-files.ts): where the image has
 * none, the runtime makes an empty one in the upper dir to mount on. Docker keeps those out of
 * a commit (its init layer); so do we, when they are still that empty mount point.
 */
export const MOUNT_POINT_FILES = ['etc/hosts', 'etc/resolv.conf', 'etc/hostname'];

export const COMMIT_WORKER = fileURLToPath(new URL('./commit-worker.js', import.meta.url));

export interface LayerWriter {
  /** Writes `upperDir` as a layer tar into the new file `file`; returns warning lines. */
  write(upperDir: string, file: string): Promise<string[]>;
}

export class KeeperCommitWriter implements LayerWriter {
  private readonly worker: KeeperWorker;

  constructor(keeper: KeeperSource, workerRoot: string, runtime = nativeBin('nestbox-runtime'), worker = COMMIT_WORKER) {
    this.worker = new KeeperWorker(keeper, workerRoot, runtime, worker);
  }

  async write(upperDir: string, file: string): Promise<string[]> {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let r: KeeperExit;
    try {
      r = await this.worker.run('commit', upperDir, MOUNT_POINT_FILES.flatMap((f) => ['--mount-point', f]), { stdout: fd });
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    } finally {
      closeSync(fd);
    }
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    if (r.code !== 0) {
      rmSync(file, { force: true });
      const said = lines.filter((l) => !l.startsWith('warning: ')).at(-1)?.replace(/^nestbox-runtime: /, '');
      throw new NestboxError('INTERNAL', `writing the layer of ${upperDir} in the keeper namespace: ${said || exitText(r)}`);
    }
    return lines.filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
  }
}
