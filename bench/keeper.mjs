// `nestbox system stop` leaves the user's keeper namespace running (as podman keeps its pause
// process): a benchmark's throw-away instance must stop its own. Killed only when the recorded
// start time still matches (pids are reused quickly on a busy machine).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function stopKeeper(runtimeDir) {
  try {
    const [pid, startTime] = readFileSync(join(runtimeDir, 'keeper.pid'), 'utf8').trim().split(' ').map(Number);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[19]) === startTime) process.kill(pid, 'SIGKILL');
  } catch { /* no keeper, or it is gone */ }
}
