import test from 'ava';
import { commandLine, mergeEnv, parseUser } from '../../services/lifecycle/run-flow.js';

test('command line follows docker: entrypoint + cmd, --entrypoint drops the image cmd', (t) => {
  const config = { Entrypoint: ['/init'], Cmd: ['serve'] };
  t.deepEqual(commandLine(config, { command: [] }), ['/init', 'serve']);
  t.deepEqual(commandLine(config, { command: ['x'] }), ['/init', 'x']);
  t.deepEqual(commandLine(config, { command: [], entrypoint: 'sh' }), ['sh']);
  t.deepEqual(commandLine(config, { command: ['-c', 'true'], entrypoint: 'sh' }), ['sh', '-c', 'true']);
  t.deepEqual(commandLine({ Cmd: ['sh'] }, { command: [], entrypoint: '' }), []);
});

test('env: defaults < image < request, by key', (t) => {
  t.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=x=y'], { PATH: '/usr/bin', HOME: '/root' }), ['PATH=/bin', 'HOME=/root', 'A=2', 'B=x=y']);
});

test('user: numeric uid[:gid], default root', (t) => {
  t.deepEqual(parseUser(undefined, undefined), { uid: 0, gid: 0 });
  t.deepEqual(parseUser('1000', undefined), { uid: 1000, gid: 1000 });
  t.deepEqual(parseUser('1000:50', 'nobody'), { uid: 1000, gid: 50 });
  t.throws(() => parseUser(undefined, 'nobody'), { message: /must be numeric/ });
});
