/**
 * `nestbox pull [-q] REF`: the storage service pulls (as the calling user, with the credentials
 * of their docker config) and streams progress, printed as docker does: on a terminal one line
 * per layer redrawn in place (`<id>: Downloading  12.3MB/45.6MB`, `Pull complete`), otherwise one
 * line per finished layer; then `Digest:`, `Status:` and the full reference.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { NAMESPACE, STORAGE } from '../../lib/contracts/patterns.js';
import type { IdMapInfo, PullChunk, RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { familiarName, parseImageRef, type ImageRef } from '../../lib/image-ref.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { maxLayerBytes } from './import.js';

export interface PullRequest { ref: string; dockerConfig?: string; insecureRegistries?: string[]; maxBytes?: number }

/** The request's registry settings from the caller's environment, as docker's CLI finds them. */
export function pullSettings(env: NodeJS.ProcessEnv = process.env): Omit<PullRequest, 'ref'> {
  const home = env.HOME || homedir();
  const configDir = env.DOCKER_CONFIG ? resolve(env.DOCKER_CONFIG) : home ? join(home, '.docker') : undefined;
  const insecure = (env.NESTBOX_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of insecure) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(:[0-9]+)?$/.test(entry)) {
      throw new NestboxError('INVALID_ARGUMENT', `NESTBOX_INSECURE_REGISTRIES: "${entry}" is not host[:port]`);
    }
  }
  const maxBytes = maxLayerBytes();
  return { ...(configDir ? { dockerConfig: configDir } : {}), ...(insecure.length ? { insecureRegistries: insecure } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) };
}

export async function pullCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [{ name: 'quiet', short: 'q', takesValue: false }], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', '"nestbox pull" requires exactly 1 argument: NAME[:TAG|@DIGEST]');
  const ref = parseImageRef(positionals[0]);
  const quiet = options.get('quiet')?.at(-1) === 'true';
  const settings = pullSettings();
  await ensureServices();
  const out = quiet ? undefined : new PullPrinter(process.stdout.isTTY === true, (s) => process.stdout.write(s));
  if (out && ref.tag === 'latest' && !/:latest$/.test(positionals[0])) out.line('Using default tag: latest');
  const done = await pullWithProgress(positionals[0], settings, out);
  for (const w of done.warnings) process.stderr.write(`nestbox: warning: ${w}\n`);
  if (out) {
    out.line(`Digest: ${done.digest}`);
    out.line(done.upToDate ? `Status: Image is up to date for ${shown(ref)}` : `Status: Downloaded newer image for ${shown(ref)}`);
  }
  process.stdout.write(`${done.ref}\n`);
  return 0;
}

/** Pulls through the storage service, printing progress to `out`; also what run/create use for an image not stored. */
export async function pullWithProgress(ref: string, settings: Omit<PullRequest, 'ref'>, out?: PullPrinter): Promise<Extract<PullChunk, { done: unknown }>['done']> {
  const namespace = clientFor('namespace');
  const storage = clientFor('storage', 120_000);
  try {
    const ids = await namespace.request<IdMapInfo>(NAMESPACE.idMap, {});
    for await (const chunk of storage.stream<PullChunk>(STORAGE.pullImage, { ref, ...settings, rootUid: ids.rootUid, rootGid: ids.rootGid })) {
      if ('done' in chunk) return chunk.done;
      out?.show(chunk);
    }
    throw new NestboxError('INTERNAL', 'the pull ended without an outcome');
  } finally {
    namespace.close();
    storage.close();
  }
}

/**
 * A run's stream with its pull chunks (an image not stored, pulled first) printed on stderr as
 * docker does: "Unable to find image 'REF' locally", the progress, Digest and Status.
 */
export async function* showingPulls(chunks: AsyncIterable<RunChunk>, image: string): AsyncGenerator<RunChunk> {
  const out = new PullPrinter(process.stderr.isTTY === true, (s) => process.stderr.write(s));
  for await (const chunk of chunks) {
    if (!('pull' in chunk)) {
      yield chunk;
      continue;
    }
    const p = chunk.pull;
    if ('missing' in p) out.line(`Unable to find image '${shown(parseImageRef(p.missing))}' locally`);
    else if ('done' in p) {
      for (const w of p.done.warnings) process.stderr.write(`nestbox: warning: ${w}\n`);
      out.line(`Digest: ${p.done.digest}`);
      out.line(`Status: ${p.done.upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown(parseImageRef(image))}`);
    } else out.show(p);
  }
}

/** As docker's Status line names it: the familiar name with its tag or digest (`busybox:latest`). */
export function shown(ref: ImageRef): string {
  return ref.digest ? `${familiarName(ref)}@${ref.digest}` : `${familiarName(ref)}:${ref.tag}`;
}

/** docker's sizes: three significant digits, decimal units (`12.3MB`, `512B`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))}${units[unit]}`;
}

export function layerLine(chunk: Extract<PullChunk, { layer: string }>): string {
  const sizes = chunk.status === 'Downloading' && chunk.total !== undefined ? `  ${humanSize(chunk.current ?? 0)}/${humanSize(chunk.total)}` : '';
  return `${chunk.layer}: ${chunk.status}${sizes}`;
}

const FINAL = new Set(['Already exists', 'Pull complete']);

/**
 * Progress as docker prints it. On a terminal every layer has its own line, rewritten in place
 * (cursor up to it, clear, write, back down); elsewhere only the final state of each layer.
 */
export class PullPrinter {
  private readonly layers: string[] = [];
  private readonly text = new Map<string, string>();

  constructor(private readonly terminal: boolean, private readonly write: (s: string) => void) {}

  line(s: string): void {
    this.write(`${s}\n`);
  }

  show(chunk: PullChunk): void {
    if ('pulling' in chunk) return this.line(`${chunk.pulling.reference}: Pulling from ${chunk.pulling.repository}`);
    if (!('layer' in chunk)) return;
    const text = layerLine(chunk);
    if (!this.terminal) {
      if (FINAL.has(chunk.status) && !this.text.has(chunk.layer)) {
        this.text.set(chunk.layer, text);
        this.line(text);
      }
      return;
    }
    const at = this.layers.indexOf(chunk.layer);
    if (at < 0) {
      this.layers.push(chunk.layer);
      this.line(text);
    } else {
      const up = this.layers.length - at;
      this.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
    }
    this.text.set(chunk.layer, text);
  }
}
