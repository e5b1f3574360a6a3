// Writes oclif.manifest.json (the command list with flags) after a build, so `mk` does not load
// every command module to find the one it runs.
const fs = require('node:fs');
const path = require('node:path');
const { Plugin } = require('@oclif/core');

async function main() {
  const root = path.join(__dirname, '..');
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  fs.writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest));
}

main().catch((err) => { console.error(`oclif manifest: ${err.message}`); process.exitCode = 1; });
