/**
 * The layer rule (docs/architecture.md) as a test: dependency-cruiser checks every import of the
 * sources against .dependency-cruiser.js, so a sideways or upward import fails the suite.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../helpers/run';

const root = path.resolve(__dirname, '..', '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.js');
const LAYERS = ['messages', 'common', 'bus', 'actors', 'node-agent', 'dashboard', 'embedded', 'cli'];

interface Violation { rule: { name: string }; from: string; to: string }

async function cruise(cwd: string, dirs: string[]): Promise<Violation[]> {
  const r = await runCommand([depcruise, '--config', config, '--output-type', 'json', ...dirs], { cwd, timeoutMs: 120_000 });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`depcruise failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layers', () => {
  it('no module imports sideways or upward', async () => {
    const violations = await cruise(root, LAYERS);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 120_000);

  it('the rule catches an upward import and a sideways one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-layers-'));
    try {
      const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      };
      write('tsconfig.json', '{}');
      write('messages/a.ts', "import { b } from '../bus/b';\nexport const a = b;\n");
      write('bus/b.ts', 'export const b = 1;\n');
      write('actors/c.ts', "import { d } from '../node-agent/d';\nexport const c = d;\n");
      write('node-agent/d.ts', 'export const d = 2;\n');
      const violations = await cruise(dir, ['messages', 'bus', 'actors', 'node-agent']);
      expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()).toEqual([
        'layer-actors: actors/c.ts -> node-agent/d.ts',
        'layer-messages: messages/a.ts -> bus/b.ts',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
