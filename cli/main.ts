#!/usr/bin/env -S node --
/**
 * The `nestbox` command: a thin ZeroMQ client of the services (no NestJS loaded). Exit codes as
 * docker: 125 when nestbox fails, 126/127 when the command cannot run, else the container's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../lib/errors.js';
import { formatOptions, HelpRequested } from './args.js';

const USAGE = `Usage: nestbox COMMAND        (nestbox COMMAND --help: its usage and flags)

Commands:
  run [OPTIONS] IMAGE [COMMAND] [ARG...]   Run a command in a new container
                                           (limits: -m, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit)
  create [OPTIONS] IMAGE [COMMAND] [ARG...] Create a container without starting it (run's options but -d)
  start [-a] [-i] CONTAINER...             Start created or stopped containers (-a: attached, the container's exit code)
  attach [--no-stdin] [--sig-proxy=false] CONTAINER  Attach to a running container's stdio (Ctrl-P Ctrl-Q detaches)
  pause CONTAINER... / unpause CONTAINER...  Freeze / thaw containers' processes (their cgroup's freezer)
  restart [-t SECONDS] CONTAINER...        Stop, then start containers
  exec [OPTIONS] CONTAINER COMMAND [ARG...]  Run a command in a running container (-i, -t, -d, -e, --env-file, -w, -u)
  ps [-a] [-q] [-n N] [-l] [--no-trunc] [-f KEY=VALUE] [--format json|TEMPLATE]  List containers (STATUS: Up 3 seconds, Exited (0) 5 seconds ago;
                                           filters: id, name, status, exited, ancestor, label, before, since, volume, network)
  stats [--no-stream] [--format json|TEMPLATE] [CONTAINER...]  Show containers' CPU, memory and pids use
  inspect [-f TEMPLATE] [--type T] NAME|ID...  Show containers' (else images') records as JSON, or a template ({{.State.Status}})
  logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER  Show a container's output (-f: follow until it ends;
                                           T: 10m, a unix time or an RFC3339 date-time)
  kill [-s SIGNAL] CONTAINER...            Send a signal (default KILL) to running containers
  wait CONTAINER...                        Wait until containers are not running; print their exit codes
  rename CONTAINER NEW_NAME                Rename a container
  port CONTAINER [PRIVATE_PORT[/PROTO]]    List a container's published ports
  top CONTAINER [ps OPTIONS]               Show a container's processes (the host's ps, default -ef)
  stop [-t SECONDS] CONTAINER...           Stop running containers (SIGTERM, then SIGKILL)
  rm [-f] [-v] CONTAINER...                Remove containers (-v: and their named volumes)
  export [-o FILE] CONTAINER               Write a container's file system as a tar (stdout without -o)
  images [-q] [--no-trunc] [--format json|TEMPLATE]  List images
  history [-q] [--no-trunc] [--format json|TEMPLATE] IMAGE  Show an image's steps, newest first
  rmi [-f] IMAGE...                        Remove images (by reference, id or id prefix)
  volume create|ls|inspect|rm              Manage named volumes (run -v NAME:/path)
  import FILE [REFERENCE]                  Make an image of a rootfs tar (plain or gzip)
  commit [-a AUTHOR] [-m MESSAGE] CONTAINER [REPOSITORY[:TAG]]  Make an image of a container's changes
  pull [-q] NAME[:TAG|@DIGEST]             Pull an image from a registry (credentials: docker's config.json)
  load [-i FILE] [-q]                      Load images from a docker archive or an OCI layout (stdin without -i)
  save [-o FILE] IMAGE...                  Write images as a docker archive (stdout without -o)
  system info|stop                         Show or stop the services
  system df [-v]                           Show disk usage
  container ls|run|rm|... / image ls|rm|pull|...  docker's management commands: ps, run, rm... / images, rmi, pull...
  container prune [-f] / image prune [-a] [-f]  Remove stopped containers / images no container uses (dangling; -a: all)
  system prune [-a] [-f]                   Remove stopped containers and dangling images (-a: all unused images)
  system setup-cgroups --user NAME [--undo]  As root: delegate cgroups to NAME (limits when rootless)
`;

/** docker's management commands (`container ls`, `image rm`...): the verb (and flags) each one is */
const MANAGEMENT: Record<string, Record<string, string[]>> = {
  container: {
    ls: ['ps'], list: ['ps'], ps: ['ps'], inspect: ['inspect', '--type', 'container'], prune: ['container-prune'],
    ...Object.fromEntries(['run', 'create', 'start', 'attach', 'pause', 'unpause', 'restart', 'exec', 'stats', 'logs', 'kill', 'wait', 'rename', 'port', 'top', 'stop', 'rm', 'export', 'commit'].map((v) => [v, [v]])),
  },
  image: {
    ls: ['images'], list: ['images'], rm: ['rmi'], history: ['history'], inspect: ['inspect', '--type', 'image'], prune: ['image-prune'],
    ...Object.fromEntries(['pull', 'load', 'save', 'import'].map((v) => [v, [v]])),
  },
};

/** `container ls -a` -> `ps -a`; one line naming the subcommands for anything else */
function unmanaged(argv: string[]): string[] {
  const [group, sub, ...rest] = argv;
  const verbs = MANAGEMENT[group];
  if (!verbs) return argv;
  if (sub !== undefined && Object.hasOwn(verbs, sub)) return [...verbs[sub], ...rest];
  throw new NestboxError('INVALID_ARGUMENT', `${sub === undefined ? `"nestbox ${group}" requires a subcommand` : `unknown command "nestbox ${group} ${sub}"`} (${Object.keys(verbs).join(', ')})`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = unmanaged(argv);
  switch (command) {
    case 'run': return (await import('./commands/run.js')).runCommand(rest);
    case 'exec':
      if (rest.length > 1) (await import('./services.js')).warmCgroupMove(); // before the verb's code loads
      return (await import('./commands/exec.js')).execCommand(rest);
    case 'create': return (await import('./commands/create.js')).createCommand(rest);
    case 'start': return (await import('./commands/start.js')).startCommand(rest);
    case 'attach': return (await import('./commands/attach.js')).attachCommand(rest);
    case 'pause': case 'unpause': return (await import('./commands/pause.js')).pauseCommand(command, rest);
    case 'restart': return (await import('./commands/restart.js')).restartCommand(rest);
    case 'ps': return (await import('./commands/ps.js')).psCommand(rest);
    case 'stats': return (await import('./commands/stats.js')).statsCommand(rest);
    case 'inspect': return (await import('./commands/inspect.js')).inspectCommand(rest);
    case 'logs': return (await import('./commands/logs.js')).logsCommand(rest);
    case 'kill': return (await import('./commands/kill.js')).killCommand(rest);
    case 'wait': return (await import('./commands/wait.js')).waitCommand(rest);
    case 'rename': return (await import('./commands/rename.js')).renameCommand(rest);
    case 'port': return (await import('./commands/port.js')).portCommand(rest);
    case 'top': return (await import('./commands/top.js')).topCommand(rest);
    // `container prune`, `image prune` (MANAGEMENT)
    case 'container-prune': return (await import('./commands/prune.js')).pruneCommand('containers', rest);
    case 'image-prune': return (await import('./commands/prune.js')).pruneCommand('images', rest);
    case 'stop': return (await import('./commands/stop.js')).stopCommand(rest);
    case 'export': return (await import('./commands/export.js')).exportCommand(rest);
    case 'commit': return (await import('./commands/commit.js')).commitCommand(rest);
    case 'rm': return (await import('./commands/rm.js')).rmCommand(rest);
    case 'images': return (await import('./commands/images.js')).imagesCommand(rest);
    case 'rmi': return (await import('./commands/rmi.js')).rmiCommand(rest);
    case 'history': return (await import('./commands/history.js')).historyCommand(rest);
    case 'volume': return (await import('./commands/volume.js')).volumeCommand(rest);
    case 'import': return (await import('./commands/import.js')).importCommand(rest);
    case 'pull': return (await import('./commands/pull.js')).pullCommand(rest);
    case 'load': return (await import('./commands/load.js')).loadCommand(rest);
    case 'save': return (await import('./commands/save.js')).saveCommand(rest);
    case 'system': return (await import('./commands/system.js')).systemCommand(rest);
    case '--version': case '-v': case 'version': {
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`nestbox version ${pkg.version}\n`);
      return 0;
    }
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      throw new NestboxError('INVALID_ARGUMENT', `unknown command "${command}" (see nestbox --help)`);
  }
}

/**
 * `nestbox VERB --help`: the verb's lines of USAGE (a subcommand's, as `system df`, if named)
 * and its flags, on stdout, as docker prints a command's usage.
 */
function verbHelp(argv: string[], help: HelpRequested): string | undefined {
  const entries: string[][] = [];
  for (const line of USAGE.split('\n')) {
    if (/^ {2}\S/.test(line)) entries.push([line.trim()]);
    else if (/^ {3,}\S/.test(line) && entries.length) entries.at(-1)!.push(line.trim());
  }
  const [verb, sub] = argv;
  const mine = entries.filter((e) => e[0].split(' ')[0] === verb);
  if (!mine.length) return undefined;
  const chosen = mine.filter((e) => e[0].split(' ')[1]?.split('|').includes(sub ?? ''));
  const text = (chosen.length ? chosen : mine).map(([first, ...more]) => {
    const [synopsis, ...what] = first.split(/ {2,}/);
    return `Usage:  nestbox ${synopsis}\n\n${[what.join(' '), ...more].filter(Boolean).join('\n')}\n`;
  });
  const options = formatOptions(help.specs);
  return `${text.join('\n')}${options ? `\n${options}` : ''}`;
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    if (err instanceof HelpRequested) {
      // as main took them (they passed), else as typed (`container prune` has its own line)
      const typed = process.argv.slice(2);
      process.stdout.write(verbHelp(unmanaged(typed), err) ?? verbHelp(typed, err) ?? formatOptions(err.specs));
      exit(0);
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nestbox: ${message.split('\n')[0]}\n`);
    exit(125);
  },
);

/** Exits once stdout has flushed (a pipe reader must get all the container's output). */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}
