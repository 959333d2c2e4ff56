import test from 'ava';
import type { ContainerRecord } from '../../services/lifecycle/container-store.js';
import { givenConfig, inspectView } from '../../services/lifecycle/inspect-view.js';

const record: ContainerRecord = {
  id: 'f'.repeat(64), name: 'web', image: 'busybox', imageId: `sha256:${'e'.repeat(64)}`, command: ['/entry', 'serve', '-v'], hostname: 'ffffffffffff',
  createdAt: '2026-12-05T10:00:00.000Z', state: 'running', startedAt: '2026-12-05T10:00:01.000Z', autoRemove: false,
  volumes: [{ kind: 'volume', source: 'data', destination: '/data', readonly: false }, { kind: 'bind', source: '/srv', destination: '/srv', readonly: true }],
  limits: { memory: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20 },
  config: { process: { args: ['/entry', 'serve', '-v'], env: ['A=1'], cwd: '/app', uid: 1000, gid: 1000 }, network: 'none', tty: true },
  given: { user: '1000', entrypoint: ['/entry'] },
};
const extras = { pid: 4242, containerDir: '/d/containers/x', volumesDir: '/d/volumes' };

test("docker's shape: State, Config (entrypoint apart from Cmd, user as given), HostConfig, Mounts", (t) => {
  const v = inspectView(record, extras) as Record<string, any>;
  t.is(v.Name, '/web');
  t.is(v.Path, '/entry');
  t.deepEqual(v.Args, ['serve', '-v']);
  t.like(v.State, { Status: 'running', Running: true, Pid: 4242, Paused: false, Dead: false, StartedAt: '2026-12-05T10:00:01.000Z', FinishedAt: '0001-01-01T00:00:00Z' });
  t.like(v.Config, { User: '1000', Entrypoint: ['/entry'], Cmd: ['serve', '-v'], Env: ['A=1'], WorkingDir: '/app', Tty: true, OpenStdin: false, Image: 'busybox' });
  t.like(v.HostConfig, { Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, PidsLimit: 20, NetworkMode: 'none', Binds: ['data:/data', '/srv:/srv:ro'] });
  t.deepEqual(v.Mounts, [
    { Type: 'volume', Name: 'data', Source: '/d/volumes/data/_data', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' },
    { Type: 'bind', Source: '/srv', Destination: '/srv', Mode: 'ro', RW: false, Propagation: 'rprivate' },
  ]);
  t.is(v.LogPath, '/d/containers/x/ctr.log');
});

test('a stopping container is running to docker; an exited one has no pid; a record without config still shows', (t) => {
  const stopping = inspectView({ ...record, state: 'stopping' as ContainerRecord['state'] }, extras) as Record<string, any>;
  t.like(stopping.State, { Status: 'running', Running: true });
  const exited = inspectView({ ...record, state: 'exited', exitCode: 137, finishedAt: '2026-12-05T10:01:00.000Z', oomKilled: true }, extras) as Record<string, any>;
  t.like(exited.State, { Status: 'exited', Running: false, Pid: 0, ExitCode: 137, OOMKilled: true });
  const bare = inspectView({ ...record, config: undefined, given: undefined }, extras) as Record<string, any>;
  t.like(bare.Config, { User: '', Entrypoint: null, Cmd: ['/entry', 'serve', '-v'], Env: [] });
});

test("givenConfig: --entrypoint replaces the image's, '' clears it; -u over the image's User", (t) => {
  const image = { Entrypoint: ['/docker-entrypoint.sh'], User: 'nobody' };
  t.deepEqual(givenConfig(image, {}), { user: 'nobody', entrypoint: ['/docker-entrypoint.sh'] });
  t.deepEqual(givenConfig(image, { entrypoint: 'sh', user: '0' }), { user: '0', entrypoint: ['sh'] });
  t.deepEqual(givenConfig({}, { entrypoint: '' }), { user: '', entrypoint: [] });
});
