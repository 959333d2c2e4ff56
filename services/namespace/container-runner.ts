/**
 * Runs containers through their shims (native/build/nestbox-shim): writes the OCI bundle with
 * this user's id maps and starts the shim, which starts nestbox-runtime and stays the container's
 * parent. Nothing here holds a container: its state is read from the files its shim keeps
 * (shim-files.ts), so a restarted service finds every container as it left it.
 */
import { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecContainerDto, ExecStartDto, RunContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus, IdMapInfo, ProcessStateReply } from '../../lib/contracts/types.js';
import { AttachConnection, type ShimExit } from './attach-client.js';
import { ExecProcess, execProcessSpec, writeProcessFile, type OciProcess } from './exec-process.js';
import { hostIdMaps } from './id-maps.js';
import { buildSpec, withTerm, writeBundle } from './oci-bundle.js';
import type { OverlayChoice } from './overlay-driver.js';
import { launchShim } from './shim-launcher.js';
import { containerProcessState, isSameProcess, readExit, readShimRecord, type ShimRecord } from './shim-files.js';

export interface RuntimeOutput {
  onChunk(stream: 'stdout' | 'stderr', data: Buffer): void;
}

export interface NativeBins {
  runtime: string;
  shim: string;
}

/** the shim was killed (or its files lost) before it could record an exit */
const LOST: ExitStatus = { exitCode: 125, error: "the container's shim ended without an exit status", stage: 'runtime' };

export class ContainerRunner {
  private idMaps?: IdMapInfo;

  /** `overlay`: the driver chosen at start-up (overlay-driver.ts), written into every bundle */
  constructor(private readonly layout: DataLayout, private readonly overlay: OverlayChoice, private readonly bins: NativeBins) {}

  /** Read once: /etc/subuid and /etc/subgid change only with an administrator's hand. */
  ids(): IdMapInfo {
    this.idMaps ??= hostIdMaps();
    return this.idMaps;
  }

  /**
   * Foreground: the shim waits for our attach, so every byte of output reaches OUT. Resolves once
   * attached (the container runs) with its end to wait for: wrapped, as a promise resolved with
   * a promise would wait for that one (the caller's `started` came only with the exit).
   */
  async run(req: RunContainerDto, out: RuntimeOutput): Promise<{ done: Promise<ExitStatus> }> {
    const dir = await this.launch(req, true);
    return new Promise<{ done: Promise<ExitStatus> }>((resolveStarted, rejectStarted) => {
      const done = new Promise<ExitStatus>((resolveDone) => {
        AttachConnection.open(dir, {
          onOutput: (stream, data) => out.onChunk(stream, data),
          onEnd: (exit) => resolveDone(toExitStatus(exit ?? readExit(dir))),
        }).then(
          () => resolveStarted({ done }),
          (err: Error) => rejectStarted(new NestboxError('INTERNAL', `cannot attach to the shim of ${req.containerId.slice(0, 12)}: ${err.message}`)),
        );
      });
    });
  }

  /** Detached: returns once the container runs, or with its exit if it ended already. */
  async start(req: RunContainerDto): Promise<{ started: true; attach?: string } | { exit: ExitStatus }> {
    const dir = await this.launch(req, req.attach === true);
    // the caller attaches itself: the shim holds the output (and the exit) for its first client
    if (req.attach) return { started: true, attach: join(dir, 'attach.sock') };
    const state = containerProcessState(dir);
    if (state.status === 'exited') return { exit: toExitStatus(state.exit) };
    return { started: true };
  }

  state(containerId: string): ProcessStateReply {
    const s = containerProcessState(this.layout.container(containerId));
    if (s.status === 'exited') return { status: 'exited', exit: toExitStatus(s.exit) };
    if (s.status === 'running') {
      const { containerPid: pid, containerStartTime: start } = s.shim;
      return pid !== undefined && start !== undefined && isSameProcess(pid, start) ? { status: 'running', pid } : { status: 'running' };
    }
    return { status: s.status };
  }

  /**
   * Calls back once with the state now, and again when a running container ends, once its shim
   * is gone too (stop and rm -f report only when no process of the container is left; the
   * foreground run does not wait for that: the shim's exit is a few ms more, off its path).
   */
  async wait(containerId: string, onState: (s: ProcessStateReply) => void): Promise<() => void> {
    const dir = this.layout.container(containerId);
    const shim = readShimRecord(dir);
    const now = this.state(containerId);
    onState(now);
    if (now.status !== 'running') return () => undefined;
    try {
      const conn = await AttachConnection.open(dir, {
        onOutput: () => undefined,
        onEnd: (exit) => {
          const end = this.endState(dir, exit);
          void (shim ? shimGone(shim) : Promise.resolve()).then(() => onState(end));
        },
      });
      return () => conn.detach();
    } catch {
      // the shim finished between the two looks
      onState(this.endState(dir, undefined));
      return () => undefined;
    }
  }

  /** Runs one more process in a running container; resolves with its exit status. */
  exec(req: ExecContainerDto, out: RuntimeOutput): Promise<ExitStatus> {
    const t = this.execTarget(req.containerId);
    return new ExecProcess(t.pid, execProcessSpec(t.process, req), t.dir, out).done;
  }

  /**
   * exec -i / -t / -d: the process under a shim of its own in <container dir>/exec/<id>/, as a
   * container's (stdin pipe or pty, attach socket); the caller attaches to it, or with -d leaves
   * it. That shim removes its directory at the end: a detached exec's exit is nobody's to read.
   */
  async execStart(req: ExecStartDto): Promise<{ started: true; attach?: string } | { exit: ExitStatus }> {
    const t = this.execTarget(req.containerId);
    const attach = req.detach !== true;
    const execDir = join(t.dir, 'exec', randomBytes(8).toString('hex'));
    mkdirSync(execDir, { recursive: true, mode: 0o700 });
    const processFile = join(execDir, 'process.json');
    try {
      const spec = execProcessSpec(t.process, req);
      const terminal = req.terminal === true;
      writeProcessFile(processFile, { ...spec, terminal, ...(terminal && req.consoleSize ? { consoleSize: req.consoleSize } : {}), env: withTerm(spec.env ?? [], terminal) });
      const shim = await launchShim(this.bins.shim, {
        containerId: req.containerId, containerDir: execDir, bundleDir: join(t.dir, 'bundle'), runtime: this.bins.runtime,
        cgroupPaths: [], waitAttach: attach, stdin: attach && req.stdin === true, terminal: req.terminal === true,
        exec: { pid: t.pid, processFile }, cleanup: true,
      });
      // -d of a command that could not start: said now, as docker's exec -d does (no client
      // will read it from the shim, which removes its directory)
      if (!attach && shim.exit?.stage !== undefined) return { exit: toExitStatus(shim.exit) };
    } catch (err) {
      rmSync(execDir, { recursive: true, force: true });
      throw err;
    }
    return attach ? { started: true, attach: join(execDir, 'attach.sock') } : { started: true };
  }

  /**
   * What an exec starts from: the container's own process (its bundle's config.json) and its
   * pid 1, the pid its shim recorded with its start time (both survive a restart of this service).
   */
  private execTarget(containerId: string): { dir: string; pid: number; process: OciProcess } {
    const dir = this.layout.container(containerId);
    const shim = readShimRecord(dir);
    if (!shim || !isSameProcess(shim.pid, shim.startTime)) {
      throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} is not running`);
    }
    const { containerPid: pid, containerStartTime: start } = shim;
    if (pid === undefined || start === undefined || !isSameProcess(pid, start)) {
      // the shim records the pid once the container is set up, just before its command
      throw new NestboxError('FAILED_PRECONDITION', `container ${containerId.slice(0, 12)} is still starting`);
    }
    const config = JSON.parse(readFileSync(join(dir, 'bundle', 'config.json'), 'utf8')) as { process: OciProcess };
    return { dir, pid, process: config.process };
  }

  /**
   * Signals the container's pid 1, the pid its shim recorded, believed only with the start time
   * recorded next to it. During setup (no container pid yet) a few tries are made.
   */
  async signal(containerId: string, signal: number): Promise<void> {
    const dir = this.layout.container(containerId);
    for (let attempt = 0; attempt < 40; attempt++) {
      const shim = readShimRecord(dir);
      if (!shim || !isSameProcess(shim.pid, shim.startTime)) break;
      const { containerPid: pid, containerStartTime: start } = shim;
      if (pid !== undefined && start !== undefined) {
        if (!isSameProcess(pid, start)) break;
        process.kill(pid, signal);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} is not running`);
  }

  private endState(dir: string, exit: ShimExit | undefined): ProcessStateReply {
    return { status: 'exited', exit: toExitStatus(exit ?? readExit(dir)) };
  }

  private async launch(req: RunContainerDto, waitAttach: boolean): Promise<string> {
    if (this.overlay.error) throw new NestboxError('FAILED_PRECONDITION', this.overlay.error);
    const dir = this.layout.container(req.containerId);
    if (containerProcessState(dir).status === 'running') {
      throw new NestboxError('ALREADY_EXISTS', `container ${req.containerId.slice(0, 12)} is already running`);
    }
    // a started-again container's last exit is history: if this launch fails before its shim
    // runs (which removes it too), the state must say "none", not that old exit
    rmSync(join(dir, 'exit.json'), { force: true });
    const spec = buildSpec(req, this.ids(), this.overlay.driver);
    const bundleDir = writeBundle(dir, spec);
    await launchShim(this.bins.shim, {
      containerId: req.containerId, containerDir: dir, bundleDir, runtime: this.bins.runtime,
      cgroupPaths: req.cgroupPaths, waitAttach, stdin: req.stdin === true,
      terminal: (spec.process as { terminal?: boolean }).terminal === true,
    });
    return dir;
  }
}

const SHIM_EXIT_WAIT_MS = 5_000;

/** Resolves once the shim has exited (it closes its clients first, then exits: milliseconds). */
async function shimGone(shim: ShimRecord): Promise<void> {
  for (const until = Date.now() + SHIM_EXIT_WAIT_MS; Date.now() < until && isSameProcess(shim.pid, shim.startTime); ) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

function toExitStatus(exit: ShimExit | undefined): ExitStatus {
  if (!exit) return LOST;
  const s: ExitStatus = { exitCode: exit.exitCode };
  if (exit.signal !== undefined) s.signal = exit.signal;
  if (exit.error !== undefined) s.error = exit.error;
  if (exit.stage !== undefined) s.stage = exit.stage;
  if (exit.oomKilled !== undefined) s.oomKilled = exit.oomKilled;
  if (exit.finishedAt !== undefined) s.finishedAt = exit.finishedAt;
  return s;
}
