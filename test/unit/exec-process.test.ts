import test from 'ava';
import { execProcessSpec } from '../../services/namespace/exec-process.js';
import type { ExecContainerDto } from '../../lib/contracts/namespace.dto.js';

const container = {
  terminal: false,
  args: ['sleep', '60'],
  env: ['PATH=/bin', 'HOME=/root', 'A=1'],
  cwd: '/srv',
  user: { uid: 5, gid: 6 },
  noNewPrivileges: true,
  capabilities: { bounding: ['CAP_KILL'] },
};
const req = (more: Partial<ExecContainerDto>): ExecContainerDto => ({ containerId: 'a'.repeat(64), args: ['id'], ...more });

test('exec starts from the container\'s process: env, cwd, user, capabilities, no_new_privs', (t) => {
  t.deepEqual(execProcessSpec(container, req({})), { ...container, args: ['id'] });
});

test('exec: env entries replace the container\'s by key and add new ones; -w and -u override', (t) => {
  const p = execProcessSpec(container, req({ env: ['A=2', 'B=x=y'], cwd: '/tmp', uid: 1000 }));
  t.deepEqual(p.env, ['PATH=/bin', 'HOME=/root', 'A=2', 'B=x=y']);
  t.is(p.cwd, '/tmp');
  t.deepEqual(p.user, { uid: 1000, gid: 1000 });
  t.deepEqual(execProcessSpec(container, req({ uid: 7, gid: 8 })).user, { uid: 7, gid: 8 });
});
