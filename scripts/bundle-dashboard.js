// Bundles the dashboard's page (dashboard/web: browser TypeScript, no framework) with esbuild into
// dist/dashboard/web, beside its static files. The page imports only types from the server side
// (dashboard/protocol.ts), so nothing of the server ends up in the bundle; the bundle's inputs are
// written beside it (bundle.json) and test/unit/dashboard-bundle.test.ts checks them.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const src = path.join(root, 'dashboard', 'web');

/** Builds the page into `out` (default dist/dashboard/web); returns the bundle's input files. */
function bundleDashboard(out = path.join(root, 'dist', 'dashboard', 'web')) {
  fs.mkdirSync(out, { recursive: true });
  const result = esbuild.buildSync({
    metafile: true,
    absWorkingDir: root,
    entryPoints: [path.join(src, 'src', 'main.ts')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    tsconfig: path.join(src, 'tsconfig.json'),
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) fs.copyFileSync(path.join(src, f), path.join(out, f));
  // Inputs relative to the repository, packages by name (node_modules may be a link elsewhere).
  const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^.*node_modules\//, 'node_modules/')).sort();
  fs.writeFileSync(path.join(out, 'bundle.json'), `${JSON.stringify({ inputs }, null, 1)}\n`);
  return inputs;
}

module.exports = { bundleDashboard };
if (require.main === module) bundleDashboard();
