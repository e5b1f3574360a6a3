// Copies the non-TypeScript files the build needs (the CRI proto, the pause source, the function loaders) into dist/.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const assets = ['node-agent/cri/runtime.proto', 'node-agent/images/pause.c', 'node-agent/functions/loader.py', 'node-agent/functions/loader.js'];
for (const rel of assets) {
  const src = path.join(root, rel);
  if (!fs.existsSync(src)) continue;
  const dst = path.join(root, 'dist', rel);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
}
