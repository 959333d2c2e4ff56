// Reads the TAP that test/run.mjs prints (ava --tap) and turns it into counts per user, then
// into the matrix table. The suite mixes root and rootless tests in one run; a test counts as
// "rootless" when its title says so, everything else under "root" (the driving user).

/** { tests: [{ ok, skip, todo, title, user, diag }], avaLine, planned } */
export function parseTap(text) {
  const tests = [];
  let avaLine;
  let current;
  let inYaml = false;
  for (const line of text.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
    if (m) {
      const title = m[2];
      current = {
        ok: m[1] === 'ok',
        skip: m[3] === 'SKIP',
        todo: m[3] === 'TODO',
        title,
        user: /rootless/i.test(title) ? 'rootless' : 'root',
        diag: [],
      };
      tests.push(current);
      inYaml = false;
      continue;
    }
    if (/^ {2}---$/.test(line)) { inYaml = true; continue; }
    if (/^ {2}\.\.\.$/.test(line)) { inYaml = false; continue; }
    if (inYaml && current) { current.diag.push(line.slice(4)); continue; }
    if (line.startsWith('ava: ')) avaLine = line;
  }
  return { tests, avaLine };
}

/** Counts per user: { root: {passed, failed, skipped}, rootless: {...} } */
export function countByUser(tests) {
  const counts = { root: { passed: 0, failed: 0, skipped: 0 }, rootless: { passed: 0, failed: 0, skipped: 0 } };
  for (const t of tests) {
    const c = counts[t.user];
    if (t.skip || t.todo) c.skipped++;
    else if (t.ok) c.passed++;
    else c.failed++;
  }
  return counts;
}

/** The one-line why of a failed test, from its YAML diagnostics. */
export function failureSummary(test) {
  const pick = (key) => test.diag.find((l) => l.startsWith(`${key}:`))?.slice(key.length + 1).trim().replace(/^'|'$/g, '');
  const message = pick('message');
  const assertion = pick('assertion');
  const values = test.diag.filter((l) => /^\s+[-+] /.test(l)).map((l) => l.trim()).slice(0, 4).join(' ');
  return [assertion, message, values].filter(Boolean).join(' ').slice(0, 300) || test.diag.slice(0, 2).join(' ').slice(0, 300);
}

/**
 * results: [{ kernel, cgroup, status: 'ok'|'failed'|'no report'|'n/a', reason, counts, tests, ms }]
 * Returns the table and failure list as text.
 */
export function renderTable(results) {
  const rows = [['kernel', 'cgroup', 'user', 'passed', 'failed', 'skipped', 'result', 'time']];
  for (const r of results) {
    const time = r.ms ? `${Math.round(r.ms / 1000)} s` : '';
    const cg = r.cgroup ? `v${r.cgroup}` : '';
    if (!r.counts) {
      rows.push([r.kernel, cg, '-', '', '', '', `${r.status}${r.reason ? `: ${r.reason}` : ''}`, time]);
      continue;
    }
    ['root', 'rootless'].forEach((user, i) => {
      const c = r.counts[user];
      const status = i === 0 ? `${r.status}${r.reason ? ` (${r.reason})` : ''}` : '';
      rows.push([i === 0 ? r.kernel : '', i === 0 ? cg : '', user, String(c.passed), String(c.failed), String(c.skipped), status, i === 0 ? time : '']);
    });
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => (col === 6 ? Math.min(row[col].length, 60) : row[col].length))));
  const numeric = new Set([3, 4, 5]);
  const lines = rows.map((row) => row.map((cell, col) => (numeric.has(col) ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));

  const failures = [];
  for (const r of results) {
    for (const t of r.tests ?? []) {
      if (!t.ok && !t.todo) failures.push(`  ${r.kernel}${r.cgroup ? `/v${r.cgroup}` : ''}: ${t.title}\n      ${failureSummary(t)}`);
    }
  }
  let text = lines.join('\n');
  if (failures.length) text += `\n\nfailed tests:\n${failures.join('\n')}`;
  return text;
}
