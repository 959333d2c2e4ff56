/**
 * The commit's layer tar, written in the keeper namespace: `nestbox-runtime join --pid PID
 * --start-time T -- node commit-worker.js --dir UPPER --runtime RUNTIME` with its stdout on a new
 * file, so owners read as the container sees them (as rootfs-export.ts does for export). The
 * upper dir is read as it is: a running container is not paused (see Storage.commit).
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import { stagedTools, type KeeperSource } from './keeper-extract.js';

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
  private runnable?: { worker: string; runtime: string };

  constructor(
    private readonly keeper: KeeperSource,
    private readonly workerRoot: string,
    private readonly runtime = nativeBin('nestbox-runtime'),
    private readonly worker = COMMIT_WORKER,
  ) {}

  async write(upperDir: string, file: string): Promise<string[]> {
    const keeper = await this.keeper('commit');
    this.runnable ??= stagedTools(this.workerRoot, this.worker, this.runtime);
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let r: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
    try {
      r = await new Promise((resolve) => {
        const child = spawn(this.runtime, ['join', '--pid', String(keeper.pid), '--start-time', String(keeper.startTime), '--',
          process.execPath, this.runnable!.worker, '--dir', upperDir, '--runtime', this.runnable!.runtime, ...MOUNT_POINT_FILES.flatMap((f) => ['--mount-point', f])], { stdio: ['ignore', fd, 'pipe'], cwd: '/' });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (err) => resolve({ code: null, signal: null, stderr: `cannot start ${this.runtime}: ${err.message}` }));
        child.on('close', (code, signal) => resolve({ code, signal, stderr }));
      });
    } finally {
      closeSync(fd);
    }
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    if (r.code !== 0) {
      rmSync(file, { force: true });
      const said = lines.filter((l) => !l.startsWith('warning: ')).at(-1)?.replace(/^nestbox-runtime: /, '');
      throw new NestboxError('INTERNAL', `writing the layer of ${upperDir} in the keeper namespace: ${said || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`)}`);
    }
    return lines.filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
  }
}
