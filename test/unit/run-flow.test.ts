import test from 'ava';
import { commandLine, mergeEnv, userSpec } from '../../services/lifecycle/run-flow.js';

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

test('user: docker\'s -u, else the image\'s User, else root ("0"), passed on for the runtime to resolve', (t) => {
  t.is(userSpec(undefined, undefined), '0', 'root, found by uid in the container\'s passwd');
  t.is(userSpec(undefined, ''), '0');
  t.is(userSpec('1000', undefined), '1000');
  t.is(userSpec('1000:50', 'nobody'), '1000:50', '-u wins over the image');
  t.is(userSpec(undefined, 'nobody'), 'nobody');
  t.is(userSpec(undefined, 'www-data:adm'), 'www-data:adm');
  t.throws(() => userSpec(undefined, 'a b'), { message: 'user "a b" (the image\'s User) must be USER[:GROUP] (names or numeric ids)' });
  t.throws(() => userSpec('x:y:z', undefined), { message: /^user "x:y:z" must be/ });
});
