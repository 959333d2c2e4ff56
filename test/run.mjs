#!/usr/bin/env node
// Runs the compiled ava suite with the TAP reporter, passes its output through, and ends with
// the one line CI reads: "ava: N passed, N failed, N skipped". Keeps ava's exit code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const avaCli = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
const args = [avaCli, '--tap', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });

const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
let seenSummary = false;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString('utf8');
  let nl;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    const m = /^# (pass|fail|skip|todo)\s+(\d+)/.exec(line);
    if (m) {
      counts[m[1]] = Number(m[2]);
      seenSummary = true;
    }
  }
});
child.on('close', (code, signal) => {
  if (!seenSummary) process.stdout.write('\n(ava printed no summary)\n');
  process.stdout.write(`ava: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip + counts.todo} skipped\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
