#!/usr/bin/env node
// The `mk` command. `mk get` and `mk describe` take a fast path that never loads oclif
// (dist/cli/fast-path.js: oclif's own start-up costs more than node's); everything else, and any
// command line the fast path declines, goes to oclif over the compiled commands in
// dist/cli/commands.
const fs = require('node:fs');
const path = require('node:path');

/**
 * The fast path's module: its bundle (scripts/bundle-cli.js) run through a V8 code cache kept
 * beside it, named by the bundle's hash so a rebuilt bundle never meets an old cache; the plain
 * module when there is no bundle. The cache is written after a run that had none (or had one V8
 * refused), and that write is best effort: a read-only install just runs without it.
 */
function loadFastPath() {
  const dir = path.join(__dirname, '..', 'dist', 'cli');
  const file = path.join(dir, 'fast-path.bundle.js');
  let hash;
  try {
    hash = JSON.parse(fs.readFileSync(path.join(dir, 'fast-path.bundle.json'), 'utf8')).hash;
  } catch {
    return require('../dist/cli/fast-path.js');
  }
  const vm = require('node:vm');
  const Module = require('node:module');
  const cacheFile = path.join(dir, `fast-path.${hash}.cache`);
  let cachedData;
  try { cachedData = fs.readFileSync(cacheFile); } catch { /* first run */ }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch { /* no cache this time */ }
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dir);
  return mod.exports;
}

const run = loadFastPath().fastCommand(process.argv.slice(2));
if (run) {
  // As oclif does: success ends when nothing is left to do, a failure exits at once.
  run().then((code) => { if (code !== 0) process.exit(code); });
} else {
  require('@oclif/core').execute({ dir: __dirname }).catch(require('@oclif/core/handle'));
}
