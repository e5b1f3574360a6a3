/**
 * The dashboard's page is bundled apart from the server: it may take only types from
 * dashboard/protocol.ts, so its bundle must hold none of mk's server-side modules (nor zod, which
 * protocol.ts uses for the server's validation).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a build script, CommonJS
const { bundleDashboard } = require('../../scripts/bundle-dashboard.js') as { bundleDashboard(out: string): string[] };

describe('the dashboard page bundle', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dash-bundle-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('holds the page and js-yaml, nothing of the server, the bus or zod', () => {
    const inputs = bundleDashboard(out);
    expect(inputs).toContain('dashboard/web/src/main.ts');
    const foreign = inputs.filter((p) => !p.startsWith('dashboard/web/') && !p.startsWith('node_modules/js-yaml/'));
    expect(foreign).toEqual([]);
    for (const f of ['index.html', 'style.css', 'app.js']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('src="app.js"');
  });
});
