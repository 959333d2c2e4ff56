#!/usr/bin/env -S node --
'use strict';
// The nestbox command (copied to dist/cli/nestbox.cjs by scripts/bundle-cli.mjs): runs the bundled
// CLI, nestbox-bundle.cjs beside it, with V8's code cache made at build time
// (nestbox-bundle.cjs.cache), so a start does not compile the bundle again: ~1.5-3 ms of every
// command. A cache V8 rejects (another node, other flags) is ignored and the bundle compiled as
// usual. NESTBOX_WRITE_CODE_CACHE=1 (the build, running --help) writes the cache at exit.
const { readFileSync, writeFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'nestbox-bundle.cjs');
const cacheFile = `${bundle}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined; // not built: compiled as usual
}
const script = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
if (process.env.NESTBOX_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, bundle, __dirname);
