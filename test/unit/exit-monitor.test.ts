import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ProcessStateReply } from '../../lib/contracts/types.js';
import { ContainerStore } from '../../services/lifecycle/container-store.js';
import type { ContainerEvent } from '../../services/lifecycle/container-state.js';
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

/** Walks a new record through the transition table to STATE (as the flows would). */
function moveTo(s: ContainerStore, id: string, state: 'created' | 'running' | 'stopping' | 'exited' | 'removing', change: { exitCode?: number } = {}): void {
  const path: Record<typeof state, ContainerEvent[]> = {
    created: ['prepared'], running: ['prepared', 'started'], stopping: ['prepared', 'started', 'stop'],
    exited: ['prepared', 'started', 'exit'], removing: ['prepared', 'remove'],
  };
  for (const event of path[state]) s.transition(id, event, change);
}

test('finalize cleans up once, records the exit last, keeps the layer without --rm', async (t) => {
  const s = store(t);
  const services = new FakeServices();
  const monitor = new ExitMonitor(services, s, () => undefined);
  const { id } = s.create(fields(false));
  moveTo(s, id, 'running');
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
  moveTo(s, id, 'running');
  await monitor.finalize(id, { exitCode: 0 });
  t.deepEqual(services.calls, ['network.detach', 'cgroup.destroy', 'storage.rootfs.remove']);
  t.false(s.exists(id));
  t.is(logged.length, 1);
  t.regex(logged[0], /cgroup cleanup of .* failed: cgroup.destroy broke/);
});

test('reconcile: live shim -> running; exit.json -> exited with it; neither -> exited with an error; exited and created records without a shim untouched', async (t) => {
  const s = store(t);
  const [running, ended, lost, old, created, restarted, stopping] = [0, 1, 2, 3, 4, 5, 6].map(() => s.create(fields(false)).id);
  for (const id of [running, ended, lost]) moveTo(s, id, 'running');
  moveTo(s, old, 'exited', { exitCode: 1 });
  moveTo(s, created, 'created');
  // the service died after launching an exited container again, before its record said running
  moveTo(s, restarted, 'exited', { exitCode: 2 });
  moveTo(s, stopping, 'stopping');
  const services = new FakeServices({
    [running]: { status: 'running' }, [restarted]: { status: 'running' },
    [ended]: { status: 'exited', exit: { exitCode: 137, signal: 9 } }, [stopping]: { status: 'exited', exit: { exitCode: 143 } },
  });
  // the fake's wait stream says "exited 0": the watch of the running one would finalize it, so
  // check the state right after the reconcile, before the stream is read
  const monitor = new ExitMonitor(services, s, () => undefined);
  monitor.watch = () => undefined;
  await new Reconciler(services, s, monitor, () => undefined).ready;
  t.is(s.get(running).state, 'running');
  t.is(s.get(restarted).state, 'running');
  t.like(s.get(ended), { state: 'exited', exitCode: 137 });
  t.like(s.get(stopping), { state: 'exited', exitCode: 143 });
  t.like(s.get(lost), { state: 'exited', exitCode: LOST_EXIT.exitCode, error: LOST_EXIT.error });
  t.like(s.get(old), { state: 'exited', exitCode: 1 });
  t.is(s.get(created).state, 'created');
});

test('reconcile: a create cut short is undone (its name free again); a removal cut short is finished', async (t) => {
  const s = store(t);
  const half = s.create({ ...fields(false), name: 'half' }).id;
  const gone = s.create(fields(false)).id;
  moveTo(s, gone, 'removing');
  const services = new FakeServices();
  const monitor = new ExitMonitor(services, s, () => undefined);
  await new Reconciler(services, s, monitor, () => undefined).ready;
  t.false(s.exists(half));
  t.false(s.exists(gone));
  t.is(services.calls.filter((c) => c === 'storage.rootfs.remove').length, 2);
  t.notThrows(() => s.create({ ...fields(false), name: 'half' }));
});

test('finalize of a run that ended, then a new run: the second exit is recorded too', async (t) => {
  const s = store(t);
  const monitor = new ExitMonitor(new FakeServices(), s, () => undefined);
  const { id } = s.create(fields(false));
  moveTo(s, id, 'running');
  await monitor.finalize(id, { exitCode: 3 });
  t.like(s.get(id), { state: 'exited', exitCode: 3 });
  monitor.beginRun(id);
  s.transition(id, 'started', { exitCode: undefined });
  await monitor.finalize(id, { exitCode: 4 });
  t.like(s.get(id), { state: 'exited', exitCode: 4 });
});

test('an exit during rm -f leaves the record to the removal', async (t) => {
  const s = store(t);
  const services = new FakeServices();
  const monitor = new ExitMonitor(services, s, () => undefined);
  const { id } = s.create(fields(true));
  moveTo(s, id, 'running');
  s.transition(id, 'force-remove');
  await monitor.finalize(id, { exitCode: 137 });
  t.is(s.get(id).state, 'removing');
  t.deepEqual(services.calls, []);
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
