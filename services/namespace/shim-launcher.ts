/**
 * Starts a container's shim (native/build/nestbox-shim) and reads its one-line handshake. The
 * shim double-forks into its own session, so the process spawned here exits at once and nothing
 * of this service stays attached to the container: killing the service leaves it running.
 */
import { spawn } from 'node:child_process';
import { NestboxError } from '../../lib/errors.js';
import type { ShimExit } from './attach-client.js';

export interface ShimLaunch {
  containerId: string;
  containerDir: string;
  bundleDir: string;
  runtime: string;
  cgroupPaths: string[];
  /** start the runtime only once an attach client is there (foreground runs see all output) */
  waitAttach: boolean;
  /** the container's stdin is a pipe fed by attach clients */
  stdin: boolean;
  /** process.terminal: the shim receives the pty master on its console socket */
  terminal: boolean;
  /** exec mode: this process file into the running container whose pid 1 is `pid` */
  exec?: { pid: number; processFile: string };
  /** the shim removes containerDir once its clients have the exit (a detached exec's) */
  cleanup?: boolean;
}

export interface ShimHandshake {
  pid: number;
  startTime: number;
  /** the run already ended (exit.json is there) */
  exited?: boolean;
  /** with `exited`: its exit.json (the shim of a detached exec removes that file soon after) */
  exit?: ShimExit;
}

const HANDSHAKE_TIMEOUT_MS = 60_000;

export function launchShim(shimBin: string, l: ShimLaunch): Promise<ShimHandshake> {
  const args = ['--dir', l.containerDir, '--bundle', l.bundleDir, '--runtime', l.runtime];
  for (const dir of l.cgroupPaths) args.push('--cgroup', dir);
  if (l.waitAttach) args.push('--wait-attach');
  if (l.stdin) args.push('--stdin');
  if (l.terminal) args.push('--terminal');
  if (l.exec) args.push('--exec-pid', String(l.exec.pid), '--process', l.exec.processFile);
  if (l.cleanup) args.push('--cleanup');
  args.push(l.containerId);
  return new Promise((resolve, reject) => {
    const child = spawn(shimBin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.stdout.destroy();
      reject(new NestboxError('INTERNAL', `the shim of ${l.containerId.slice(0, 12)} did not answer within ${HANDSHAKE_TIMEOUT_MS / 1000} s`));
    }, HANDSHAKE_TIMEOUT_MS);
    let answered = false;
    // the first line is the answer: no need to wait for the EOF (the first forks' exits)
    const answer = () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      let reply: (ShimHandshake & { error?: string }) | undefined;
      try {
        reply = JSON.parse(out.trim().split('\n')[0] ?? '') as ShimHandshake & { error?: string };
      } catch {
        reply = undefined;
      }
      if (reply?.error) reject(new NestboxError('INTERNAL', `shim: ${reply.error}`));
      else if (reply && Number.isInteger(reply.pid) && Number.isInteger(reply.startTime)) resolve(reply);
      else reject(new NestboxError('INTERNAL', `the shim gave no handshake${err.trim() ? `: ${err.trim().split('\n')[0]}` : ''}`));
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) answer();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new NestboxError('INTERNAL', `cannot start the shim ${shimBin}: ${e.message}`));
    });
    // all ended without a line: the shim died before answering (a usage error is on its stderr)
    child.on('close', answer);
  });
}
