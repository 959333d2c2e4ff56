import test from 'ava';
import { checkPsArgs, parsePsOutput } from '../../services/lifecycle/ps-table.js';
import { topTable } from '../../cli/commands/top.js';

const EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
1000000      200     199  0 10:01 ?        00:00:00 sh -c sleep 300 & sleep 301
1000000      201     200  0 10:01 ?        00:00:00 sleep 300
root         300       1  0 10:02 ?        00:00:00 sleep 9
`;

test("ps output: the container's rows, the command's words joined into the last column", (t) => {
  t.deepEqual(parsePsOutput(EF, new Set([200, 201])), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['1000000', '200', '199', '0', '10:01', '?', '00:00:00', 'sh -c sleep 300 & sleep 301'],
      ['1000000', '201', '200', '0', '10:01', '?', '00:00:00', 'sleep 300'],
    ],
  });
  t.deepEqual(parsePsOutput(EF, new Set([999])).Processes, []);
});

test('ps -m: a thread row (PID -) goes with the process row before it', (t) => {
  const out = 'PID TTY TIME CMD\n200 ? 00:00:00 sh\n- - 00:00:00 -\n300 ? 00:00:00 other\n- - 00:00:00 -\n';
  t.deepEqual(parsePsOutput(out, new Set([200])).Processes, [['200', '?', '00:00:00', 'sh'], ['-', '-', '00:00:00', '-']]);
});

test('no PID column, a pid that is no number, and ps options that rename a column to PID are refused', (t) => {
  t.throws(() => parsePsOutput('USER COMMAND\nroot init\n', new Set([1])), { message: "Couldn't find PID field in ps output" });
  t.throws(() => parsePsOutput('PID CMD\nx sh\n', new Set([1])), { message: "unexpected pid 'x' in ps output" });
  t.throws(() => checkPsArgs(['-o', 'user=PID']), { message: 'specifying "user=PID" is not allowed' });
  t.notThrows(() => checkPsArgs(['-o', 'pid=PID,comm']));
  t.notThrows(() => checkPsArgs(['aux']));
});

test("top's table is Go's tabwriter(20, 1, 3): at least 20 wide, padded by 3, the last column bare", (t) => {
  t.is(topTable({ Titles: ['PID', 'COMMAND'], Processes: [['12', 'sleep 300']] }), `${'PID'.padEnd(20)}COMMAND\n${'12'.padEnd(20)}sleep 300\n`);
  const long = 'x'.repeat(25);
  t.is(topTable({ Titles: ['A', 'B'], Processes: [[long, 'b']] }), `${'A'.padEnd(28)}B\n${long}   b\n`);
});
