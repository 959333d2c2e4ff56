/**
 * The runtime's cache of compiled seccomp filters (annotation io.nestbox.seccomp.cache,
 * native/src/seccomp_cache.h): an entry is written on the first run, loaded as is by the next run
 * of the same seccomp section (its file is not rewritten), a different section gets its own entry,
 * and an entry that is corrupt, belongs to someone else or sits in a directory others can write
 * is never loaded: the filter is compiled again. That an entry is really what gets loaded is
 * shown with a forged one: the key of profile A with the BPF of profile B (no mkdir).
 */
import { chmodSync, chownSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { type Bundle, type Config, type Mode, both, makeBundle, registerRuntimeHooks, removeBundle, run, serviceProfile, testUser } from '../helpers/runtime-bundle.js';
registerRuntimeHooks();

const HEADER = 24; // magic[8], keylen, flags, len, pad (u32 little-endian)
const SCRIPT = 'grep -E "^Seccomp:" /proc/self/status; mkdir /tmp/d 2>/dev/null && echo mkdir ok; true';

function fnv1a64(buf: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

/** profile B: A without mkdir/mkdirat (so they fail with the profile's default errno) */
function noMkdir(c: Config): void {
  for (const r of c.linux.seccomp.syscalls) r.names = r.names.filter((n: string) => n !== 'mkdir' && n !== 'mkdirat');
}

/** Runs SCRIPT with the service profile (edited by MORE); the cache is CACHE or, made by the runtime, `cache` in the bundle's base. */
async function runWith(t: Parameters<Parameters<typeof both>[1]>[0], mode: Mode, cache: string | undefined, more?: (c: Config) => void) {
  const b: Bundle = makeBundle(mode, ['sh', '-c', SCRIPT], (c, bb) => {
    serviceProfile(c);
    more?.(c);
    c.annotations['io.nestbox.seccomp.cache'] = cache ?? join(bb.base, 'cache');
  });
  t.teardown(() => removeBundle(b));
  const r = await run(b);
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  return { out: r.stdout.trim(), dir: cache ?? join(b.base, 'cache'), b };
}

const FILTERED = 'Seccomp:\t2\nmkdir ok';
const FILTERED_NO_MKDIR = 'Seccomp:\t2';

function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}

both('the first run writes an entry, the next run of the same section loads it without rewriting it', async (t, mode) => {
  const a = await runWith(t, mode, undefined);
  t.is(a.out, FILTERED);
  const [entry, ...rest] = entries(a.dir);
  t.deepEqual(rest, []);
  t.regex(entry, /^[0-9a-f]{16}\.bpf$/);
  const st = statSync(join(a.dir, entry));
  t.is(st.mode & 0o777, 0o600);
  t.is(st.uid, mode === 'root' ? 0 : testUser().uid);
  t.is(statSync(a.dir).mode & 0o777, 0o700);
  const again = await runWith(t, mode, a.dir);
  t.is(again.out, FILTERED);
  t.deepEqual(entries(a.dir), [entry]);
  t.is(statSync(join(a.dir, entry)).ino, st.ino, 'a hit does not rewrite the entry');
});

both('a different seccomp section gets its own entry and its own filter', async (t, mode) => {
  const a = await runWith(t, mode, undefined);
  const b = await runWith(t, mode, a.dir, noMkdir);
  t.is(b.out, FILTERED_NO_MKDIR);
  t.is(entries(a.dir).length, 2);
  t.is((await runWith(t, mode, a.dir)).out, FILTERED, 'A still gets its own filter');
});

/** Profile A's entry name and key, and an entry with A's key and B's BPF (valid checksum). */
async function forge(t: Parameters<Parameters<typeof both>[1]>[0], mode: Mode) {
  const a = await runWith(t, mode, undefined);
  const [nameA] = entries(a.dir);
  const fileA = readFileSync(join(a.dir, nameA));
  await runWith(t, mode, a.dir, noMkdir);
  const nameB = entries(a.dir).find((e) => e !== nameA)!;
  const fileB = readFileSync(join(a.dir, nameB));
  const keyA = fileA.subarray(HEADER, HEADER + fileA.readUInt32LE(8));
  const header = Buffer.from(fileB.subarray(0, HEADER));
  header.writeUInt32LE(keyA.length, 8);
  const bpfB = fileB.subarray(HEADER + fileB.readUInt32LE(8), fileB.length - 8);
  const body = Buffer.concat([header, keyA, bpfB]);
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(fnv1a64(body));
  const owner = mode === 'root' ? 0 : testUser().uid;
  const put = (buf: Buffer, mode = 0o600) => {
    writeFileSync(join(a.dir, nameA), buf);
    chownSync(join(a.dir, nameA), owner, owner);
    chmodSync(join(a.dir, nameA), mode);
  };
  return { dir: a.dir, path: join(a.dir, nameA), forged: Buffer.concat([body, sum]), put };
}

both('an entry is loaded as it is: a forged one (A\'s key, B\'s filter) gives A\'s run B\'s filter', async (t, mode) => {
  const f = await forge(t, mode);
  f.put(f.forged);
  t.is((await runWith(t, mode, f.dir)).out, FILTERED_NO_MKDIR);
});

both('a corrupt or truncated entry is not loaded: the filter is compiled and the entry rewritten', async (t, mode) => {
  const f = await forge(t, mode);
  const flipped = Buffer.from(f.forged);
  flipped[HEADER + 40] ^= 1; // in the key: checksum and key both differ
  const badSum = Buffer.from(f.forged);
  badSum[badSum.length - 9] ^= 0x80; // in the BPF: only the checksum catches it
  for (const bad of [flipped, badSum, f.forged.subarray(0, f.forged.length - 3), Buffer.from('garbage')]) {
    f.put(bad);
    t.is((await runWith(t, mode, f.dir)).out, FILTERED);
    t.notDeepEqual(readFileSync(f.path), bad, 'rewritten');
  }
  f.put(f.forged);
  truncateSync(f.path, 0);
  t.is((await runWith(t, mode, f.dir)).out, FILTERED);
});

both('an entry others can write, of another user, or in a directory others can write is never loaded', async (t, mode) => {
  const f = await forge(t, mode);
  const me = mode === 'root' ? 0 : testUser().uid;
  const other = mode === 'root' ? 65534 : 0;
  const cases: Array<[string, () => void, () => void]> = [
    ['entry mode 0620', () => f.put(f.forged, 0o620), () => {}],
    ['entry of another user', () => { f.put(f.forged, 0o644); chownSync(f.path, other, other); }, () => {}],
    ['dir mode 0777', () => { f.put(f.forged); chmodSync(f.dir, 0o777); }, () => chmodSync(f.dir, 0o700)],
    ['dir of another user', () => { f.put(f.forged); chmodSync(f.dir, 0o755); chownSync(f.dir, other, other); },
      () => { chownSync(f.dir, me, me); chmodSync(f.dir, 0o700); }],
  ];
  for (const [what, arrange, restore] of cases) {
    arrange();
    t.is((await runWith(t, mode, f.dir)).out, FILTERED, what);
    restore();
  }
});

test('a relative cache path is a config error', async (t) => {
  const b = makeBundle('root', ['true'], (c) => {
    serviceProfile(c);
    c.annotations['io.nestbox.seccomp.cache'] = 'cache';
  });
  t.teardown(() => removeBundle(b));
  const r = await run(b);
  t.deepEqual(r.status, { exitCode: 125, error: 'config.json: annotations: io.nestbox.seccomp.cache: "cache" is not an absolute path', stage: 'setup' });
});
