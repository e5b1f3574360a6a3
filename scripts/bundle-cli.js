// Bundles the CLI's fast path (dist/cli/fast-path.js and what it loads) into one file with esbuild,
// and records its hash. bin/run.js runs the bundle through a V8 code cache kept beside it under
// that hash, so the commands users run all day skip both module resolution and most compilation.
// Packages that are loaded only now and then (zod for validation errors, js-yaml for -o yaml) stay
// outside the bundle and load as usual when needed.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const dir = path.join(__dirname, '..', 'dist', 'cli');
const outfile = path.join(dir, 'fast-path.bundle.js');
const result = esbuild.buildSync({
  metafile: true,
  entryPoints: [path.join(dir, 'fast-path.js')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['zod', 'js-yaml', '@oclif/core'],
  // Readable stack traces: only whitespace goes; names stay.
  minifyWhitespace: true,
  keepNames: true,
  logLevel: 'warning',
});
const hash = crypto.createHash('sha256').update(fs.readFileSync(outfile)).digest('hex').slice(0, 16);
// The files the bundle holds, so a test can check it never takes in what the fast path must not load.
const inputs = Object.keys(result.metafile.inputs).sort();
fs.writeFileSync(path.join(dir, 'fast-path.bundle.json'), `${JSON.stringify({ hash, inputs }, null, 1)}\n`);
// Code caches of earlier builds can never match again.
for (const f of fs.readdirSync(dir)) if (/^fast-path\.[0-9a-f]+\.cache$/.test(f) && f !== `fast-path.${hash}.cache`) fs.rmSync(path.join(dir, f), { force: true });
