/**
 * `nestbox VERB --help` and `nestbox --version`, as docker's: usage on stdout, exit 0, no service
 * asked (a private runtime dir that holds nothing proves it). `-h` is help only where the verb has
 * no -h of its own (run's and create's is --hostname), and `--help` after the image is the
 * container's.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatOptions, HelpRequested, parseArgs } from '../../cli/args.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };

function cli(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-help-'));
  try {
    const env = { ...process.env, NESTBOX_RUNTIME_DIR: join(dir, 'run'), NESTBOX_DATA_ROOT: join(dir, 'data') };
    const r = spawnSync(process.execPath, [join(dist, 'cli', 'nestbox.cjs'), ...args], { env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, untouched: !existsSync(join(dir, 'run')) || readdirSync(join(dir, 'run')).length === 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('parseArgs: --help anywhere among the options, -h only where the verb has none', (t) => {
  const specs = [{ name: 'force', short: 'f', takesValue: false }];
  t.throws(() => parseArgs(['a', '--help'], specs, { stopAtFirstPositional: false }), { instanceOf: HelpRequested });
  t.throws(() => parseArgs(['-h'], specs, { stopAtFirstPositional: false }), { instanceOf: HelpRequested });
  const hostname = [{ name: 'hostname', short: 'h', takesValue: true }];
  t.deepEqual(parseArgs(['-h', 'box', 'img'], hostname, { stopAtFirstPositional: true }).options.get('hostname'), ['box']);
  t.deepEqual(parseArgs(['img', '--help'], hostname, { stopAtFirstPositional: true }).positionals, ['img', '--help']);
  t.throws(() => parseArgs(['--help=1'], specs, { stopAtFirstPositional: false }), { message: 'unknown flag: --help' });
  t.is(formatOptions([{ name: 'name', takesValue: true }, { name: 'env', short: 'e', takesValue: true, repeatable: true }, ...specs]),
    'Options:\n      --name string\n  -e, --env list\n  -f, --force\n');
});

test('nestbox run --help: its usage and flags on stdout, exit 0, no service started', (t) => {
  const r = cli(['run', '--help']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.true(r.stdout.startsWith('Usage:  nestbox run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun a command in a new container\n'), r.stdout);
  for (const flag of ['  -d, --detach', '      --rm', '  -h, --hostname string', '  -v, --volume list']) t.true(r.stdout.includes(`\n${flag}\n`), flag);
  t.true(r.untouched);
});

test('help of verbs with subcommands, of one subcommand, and -h', (t) => {
  const system = cli(['system', '--help']);
  t.is(system.code, 0, system.stderr);
  t.is(system.stdout.match(/^Usage: {2}nestbox system /gm)?.length, 4, system.stdout);
  const df = cli(['system', 'df', '-h']);
  t.is(df.code, 0, df.stderr);
  t.true(df.stdout.startsWith('Usage:  nestbox system df [-v]\n\nShow disk usage\n\nOptions:\n  -v, --verbose\n'), df.stdout);
  const rm = cli(['rm', '-h']);
  t.is(rm.code, 0, rm.stderr);
  t.true(rm.stdout.includes('  -f, --force\n'));
  t.true(rm.untouched);
});

test('nestbox --version, -v and version print the package version', (t) => {
  for (const args of [['--version'], ['-v'], ['version']]) {
    const r = cli(args);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, `nestbox version ${pkg.version}\n`);
  }
});

test("docker's management commands: container ls is ps, image rm is rmi (their help too); others named in one line", (t) => {
  const ls = cli(['container', 'ls', '--help']);
  t.is(ls.code, 0, ls.stderr);
  t.true(ls.stdout.startsWith('Usage:  nestbox ps '), ls.stdout);
  t.true(cli(['image', 'rm', '-h']).stdout.startsWith('Usage:  nestbox rmi '));
  const unknown = cli(['image', 'frob']);
  t.is(unknown.code, 125);
  t.is(unknown.stderr, 'nestbox: unknown command "nestbox image frob" (ls, list, rm, history, inspect, prune, pull, load, save, import)\n');
  const bare = cli(['container']);
  t.is(bare.code, 125);
  t.regex(bare.stderr, /^nestbox: "nestbox container" requires a subcommand \(ls, list, ps, inspect, prune, run, /);
  t.true(unknown.untouched && bare.untouched);
});
