import test from 'ava';
import { nextState, type ContainerEvent, type ContainerState } from '../../services/lifecycle/container-state.js';
import { ContainerLocks } from '../../services/lifecycle/container-locks.js';

const STATES: ContainerState[] = ['creating', 'created', 'running', 'stopping', 'exited', 'removing'];
const EVENTS: ContainerEvent[] = ['prepared', 'start', 'started', 'start-failed', 'stop', 'stop-failed', 'exit', 'recovered', 'remove', 'force-remove', 'signal'];

/** the whole table, one cell a word: the state gone to, `-` for a no-op, `x` for a refusal */
const TABLE: Record<ContainerState, Record<ContainerEvent, string>> = {
  creating: { prepared: 'created', start: 'x', started: 'x', 'start-failed': '-', stop: 'x', 'stop-failed': '-', exit: '-', recovered: '-', remove: 'x', 'force-remove': 'x', signal: 'x' },
  created: { prepared: 'x', start: 'created', started: 'running', 'start-failed': 'exited', stop: '-', 'stop-failed': '-', exit: 'exited', recovered: 'running', remove: 'removing', 'force-remove': 'removing', signal: 'x' },
  running: { prepared: 'x', start: '-', started: 'x', 'start-failed': '-', stop: 'stopping', 'stop-failed': '-', exit: 'exited', recovered: 'running', remove: 'x', 'force-remove': 'removing', signal: '-' },
  stopping: { prepared: 'x', start: 'x', started: 'x', 'start-failed': '-', stop: 'stopping', 'stop-failed': 'running', exit: 'exited', recovered: 'running', remove: 'x', 'force-remove': 'removing', signal: '-' },
  exited: { prepared: 'x', start: 'exited', started: 'running', 'start-failed': 'exited', stop: '-', 'stop-failed': '-', exit: '-', recovered: 'running', remove: 'removing', 'force-remove': 'removing', signal: 'x' },
  removing: { prepared: 'x', start: 'x', started: 'x', 'start-failed': '-', stop: 'x', 'stop-failed': '-', exit: '-', recovered: '-', remove: 'removing', 'force-remove': 'removing', signal: 'x' },
};

test('the transition table, every state by every event', (t) => {
  for (const from of STATES) {
    for (const event of EVENTS) {
      const move = nextState(from, event, 'c1');
      const cell = move.kind === 'go' ? move.to : move.kind === 'noop' ? '-' : 'x';
      t.is(cell, TABLE[from][event], `${from} + ${event}`);
    }
  }
});

test("refusals are one line in docker's words, naming the container", (t) => {
  const words = (from: ContainerState, event: ContainerEvent) => {
    const move = nextState(from, event, 'web');
    return move.kind === 'refuse' ? move.message : `(${move.kind})`;
  };
  t.is(words('running', 'remove'), 'cannot remove container web: container is running: stop the container before removing or force remove');
  t.is(words('removing', 'start'), 'container web is marked for removal and cannot be started');
  t.is(words('stopping', 'start'), 'cannot start container web: container is stopping');
  t.is(words('exited', 'signal'), 'container web is not running');
  for (const from of STATES) {
    for (const event of EVENTS) {
      const move = nextState(from, event, 'web');
      if (move.kind === 'refuse') t.false(move.message.includes('\n'), `${from} + ${event}`);
    }
  }
});

test('locks: one holder at a time per container, in order; other containers do not wait', async (t) => {
  const locks = new ContainerLocks();
  const order: string[] = [];
  const first = locks.holdNew('a');
  const second = locks.with('a', async () => order.push('second'));
  const third = locks.with('a', async () => order.push('third'));
  await locks.with('b', async () => order.push('other'));
  t.deepEqual(order, ['other']);
  order.push('first done');
  first();
  first(); // twice is harmless
  await Promise.all([second, third]);
  t.deepEqual(order, ['other', 'first done', 'second', 'third']);
  // a failing holder releases too
  await t.throwsAsync(locks.with('a', async () => { throw new Error('boom'); }), { message: 'boom' });
  t.is(await locks.with('a', async () => 'free'), 'free');
  t.throws(() => { locks.holdNew('c'); locks.holdNew('c'); }, { message: /already locked/ });
});
