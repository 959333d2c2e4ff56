import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ProcessStateReply } from '../../lib/contracts/types.js';
import { ContainerStore } from '../../services/lifecycle/container-store.js';
import { ExitMonitor, LOST_EXIT } from '../../services/lifecycle/exit-monitor.js';
import { Reconciler } from '../../services/lifecycle/reconciler.js';
import type { ServiceCaller } from '../../services/lifecycle/service-caller.js';
import { FrameReader, frame } from '../../services/namespace/attach-client.js';

/** Records the calls; `namespace.state` answers from STATES; FAIL makes one pattern throw. */
class FakeServices implements ServiceCaller {
  calls: string[] = [];
  constructor(private readonly states: Record<string, ProcessStateReply> = {}, private readonly fail?: string) {}
  async call<T>(service: string, pattern: string, data: unknown): Promise<T> {
    this.calls.push(pattern);
    if (pattern === this.fail) throw new Error(`${pattern} broke`);
    if (pattern === NAMESPACE.state) return (this.states[(data as { containerId: string }).containerId] ?? { status: 'none' }) as T;
    return {} as T;
  }
  async *stream<T>(): AsyncGenerator<T> {
    yield { status: 'exited', exit: { exitCode: 0 } } as T;
  }
}

function store(t: { teardown(fn: () => void): void }): ContainerStore {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return new ContainerStore(new DataLayout(dir).init());
}

const fields = (autoRemove: boolean) => ({ image: 'busybox', imageId: 'sha256:x', command: ['true'], hostname: 'h', autoRemove });

test('finalize cleans up once, records the exit last, keeps the layer without --rm', async (t) => {
  const s = store(t);
  const services = new FakeServices();
  const monitor = new ExitMonitor(services, s, () => undefined);
  const { id } = s.create(fields(false));
  s.update(id, { state: 'running' });
  await Promise.all([monitor.finalize(id, { exitCode: 3, oomKilled: true }), monitor.finalize(id, { exitCode: 9 })]);
  t.deepEqual(services.calls, ['network.detach', 'cgroup.destroy']);
  t.like(s.get(id), { state: 'exited', exitCode: 3, oomKilled: true });
});

test('with --rm the layer and the record go; a failed step is logged and the others still run', async (t) => {
  const s = store(t);
  const logged: string[] = [];
  const services = new FakeServices({}, 'cgroup.destroy');
  const monitor = new ExitMonitor(services, s, (l) => logged.push(l));
  const { id } = s.create(fields(true));
  s.update(id, { state: 'running' });
  await monitor.finalize(id, { exitCode: 0 });
  t.deepEqual(services.calls, ['network.detach', 'cgroup.destroy', 'storage.rootfs.remove']);
  t.false(s.exists(id));
  t.is(logged.length, 1);
  t.regex(logged[0], /cgroup cleanup of .* failed: cgroup.destroy broke/);
});

test('reconcile: live shim -> running; exit.json -> exited with it; neither -> exited with an error; exited records untouched', async (t) => {
  const s = store(t);
  const [running, ended, lost, old] = [0, 1, 2, 3].map(() => s.create(fields(false)).id);
  for (const id of [running, ended, lost]) s.update(id, { state: id === lost ? 'created' : 'running' });
  s.update(old, { state: 'exited', exitCode: 1 });
  const services = new FakeServices({ [running]: { status: 'running' }, [ended]: { status: 'exited', exit: { exitCode: 137, signal: 9 } } });
  // the fake's wait stream says "exited 0": the watch of the running one would finalize it, so
  // check the state right after the reconcile, before the stream is read
  const monitor = new ExitMonitor(services, s, () => undefined);
  monitor.watch = () => undefined;
  await new Reconciler(services, s, monitor, () => undefined).ready;
  t.is(s.get(running).state, 'running');
  t.like(s.get(ended), { state: 'exited', exitCode: 137 });
  t.like(s.get(lost), { state: 'exited', exitCode: LOST_EXIT.exitCode, error: LOST_EXIT.error });
  t.like(s.get(old), { state: 'exited', exitCode: 1 });
});

test('attach frames: split anywhere, rebuilt whole; oversized frames refused', (t) => {
  const bytes = Buffer.concat([frame(1, Buffer.from('hello\n')), frame(2, Buffer.from('')), frame(3, Buffer.from('{"exitCode":0}'))]);
  const got: [number, string][] = [];
  const reader = new FrameReader();
  for (let i = 0; i < bytes.length; i += 3) reader.push(bytes.subarray(i, i + 3), (type, p) => got.push([type, p.toString()]));
  t.deepEqual(got, [[1, 'hello\n'], [2, ''], [3, '{"exitCode":0}']]);
  const huge = Buffer.alloc(5);
  huge[0] = 1;
  huge.writeUInt32BE(2 ** 21, 1);
  t.throws(() => new FrameReader().push(huge, () => undefined), { message: /over the .* limit/ });
});
