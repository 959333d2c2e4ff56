/**
 * A container's states and the one table of moves between them. Every flow asks `nextState`
 * (through ContainerStore.transition) before it changes a record, so an impossible move is refused
 * in one place, with docker's words where docker has them.
 *
 *   creating -prepared-> created -started-> running -stop-> stopping
 *                        created/exited <-start-failed-     running/stopping -exit-> exited
 *   exited -started-> running (the same record and layer: start, restart)
 *   created/exited (running/stopping with force) -remove-> removing -> gone (tried again after a failure)
 *
 * `creating` and `removing` are what a crash can leave half-done: the reconciler finishes them
 * (undoes a create, completes a removal). Pure: no I/O, no Nest.
 */
import type { ErrorCode } from '../../lib/errors.js';

export type ContainerState = 'creating' | 'created' | 'running' | 'stopping' | 'exited' | 'removing';

export type ContainerEvent =
  /** create finished preparing (layer, cgroup, volumes) */
  | 'prepared'
  /** a start is asked for (start, restart, run): checked before anything is launched */
  | 'start'
  /** the container's shim has it: it runs */
  | 'started'
  /** the start failed before the container ran (its record keeps the error) */
  | 'start-failed'
  /** stop, restart: SIGTERM then SIGKILL */
  | 'stop'
  /** the stop could not end it (the signal failed): it still runs */
  | 'stop-failed'
  /** its process ended (noticed by the exit monitor or the reconciler) */
  | 'exit'
  /** the reconciler found its shim alive */
  | 'recovered'
  /** rm */
  | 'remove'
  /** rm -f */
  | 'force-remove'
  /** kill, exec and the like: a signal or process for a running container */
  | 'signal';

export type Move =
  | { kind: 'go'; to: ContainerState }
  /** docker's way: nothing to do, and that is success (start of a running one, stop of a stopped one) */
  | { kind: 'noop' }
  | { kind: 'refuse'; code: ErrorCode; message: string };

const go = (to: ContainerState): Move => ({ kind: 'go', to });
const NOOP: Move = { kind: 'noop' };
const refuse = (message: string, code: ErrorCode = 'FAILED_PRECONDITION'): Move => ({ kind: 'refuse', code, message });

/** What EVENT does to a container in state FROM (NAME is for the refusal's words). */
export function nextState(from: ContainerState, event: ContainerEvent, name: string): Move {
  switch (event) {
    case 'prepared':
      return from === 'creating' ? go('created') : refuse(`container ${name} is ${from}, not being created`, 'INTERNAL');
    case 'start':
      if (from === 'created' || from === 'exited') return go(from);
      if (from === 'running') return NOOP; // docker: start of a running container succeeds and does nothing
      if (from === 'removing') return refuse(`container ${name} is marked for removal and cannot be started`);
      return refuse(`cannot start container ${name}: container is ${from}`);
    case 'started':
      return from === 'created' || from === 'exited' ? go('running') : refuse(`container ${name} cannot have started: it is ${from}`, 'INTERNAL');
    case 'start-failed':
      return from === 'created' || from === 'exited' ? go('exited') : NOOP;
    case 'stop':
      if (from === 'running' || from === 'stopping') return go('stopping');
      if (from === 'created' || from === 'exited') return NOOP; // docker: stopping a stopped container succeeds
      return refuse(`cannot stop container ${name}: container is ${from}`);
    case 'stop-failed':
      return from === 'stopping' ? go('running') : NOOP;
    case 'exit':
      // created: it ended during its start, before the record said running.
      // removing: rm -f killed it; the removal cleans up and deletes the record, not the exit.
      if (from === 'running' || from === 'stopping' || from === 'created') return go('exited');
      return NOOP;
    case 'recovered':
      if (from === 'running' || from === 'stopping' || from === 'created' || from === 'exited') return go('running');
      return NOOP;
    case 'remove':
      if (from === 'created' || from === 'exited') return go('removing');
      if (from === 'running' || from === 'stopping') {
        return refuse(`cannot remove container ${name}: container is running: stop the container before removing or force remove`);
      }
      // a removal that failed half-way is tried again (one in progress holds the container's lock)
      if (from === 'removing') return go('removing');
      return refuse(`cannot remove container ${name}: container is being created`);
    case 'force-remove':
      if (from === 'creating') return refuse(`cannot remove container ${name}: container is being created`);
      return go('removing');
    case 'signal':
      return from === 'running' || from === 'stopping' ? NOOP : refuse(`container ${name} is not running`);
  }
}

/** Whether a process of the container may be alive in this state (what the reconciler asks its shim about). */
export function mayHaveProcess(state: ContainerState): boolean {
  return state !== 'creating' && state !== 'removing';
}
