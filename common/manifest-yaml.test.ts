import * as fs from 'node:fs';
import * as path from 'node:path';
import { dump } from 'js-yaml';
import { loadAllManifestYaml, loadManifestYaml } from './manifest-yaml';

describe('manifest YAML', () => {
  it('reads a leading-zero integer as octal, as kubectl does', () => {
    expect(loadManifestYaml('defaultMode: 0644')).toEqual({ defaultMode: 420 });
    expect(loadManifestYaml('mode: 0400')).toEqual({ mode: 256 });
    expect(loadManifestYaml('mode: 0777')).toEqual({ mode: 511 });
    expect(loadManifestYaml('mode: 00')).toEqual({ mode: 0 });
    expect(loadManifestYaml('mode: -0755')).toEqual({ mode: -493 });
    expect(loadManifestYaml('mode: !!int 0644')).toEqual({ mode: 420 });
    expect(loadManifestYaml('items: [0644, 0600]')).toEqual({ items: [420, 384] });
  });

  it('reads everything else as the core schema does', () => {
    expect(loadManifestYaml('defaultMode: 644')).toEqual({ defaultMode: 644 });
    expect(loadManifestYaml('defaultMode: "0644"')).toEqual({ defaultMode: '0644' });
    expect(loadManifestYaml("defaultMode: '0644'")).toEqual({ defaultMode: '0644' });
    expect(loadManifestYaml('a: 0o644\nb: 0x1F\nc: 0\nd: 08\ne: 0_644\nf: 1.5\ng: -3\nh: true\ni: yes\nj: null\nk: 0644abc'))
      .toEqual({ a: 420, b: 31, c: 0, d: 8, e: '0_644', f: 1.5, g: -3, h: true, i: 'yes', j: null, k: '0644abc' });
    expect(loadManifestYaml('{"defaultMode": 420, "name": "0644"}')).toEqual({ defaultMode: 420, name: '0644' });
  });

  it('reads every document of a stream, and round-trips what mk prints', () => {
    expect(loadAllManifestYaml('a: 0644\n---\nb: 0644\n')).toEqual([{ a: 420 }, { b: 420 }]);
    const obj = { mode: 420, text: '0644', other: '0777' };
    expect(loadManifestYaml(dump(obj))).toEqual(obj);
  });

  it('is what every reader of user YAML uses: no other module loads YAML with js-yaml itself', () => {
    const root = path.resolve(__dirname, '..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'web') walk(p);
        } else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('manifest-yaml.ts')) {
          const text = fs.readFileSync(p, 'utf8');
          const names = String.raw`\{[\w\s,]*\bload(All)?\b[\w\s,]*\}`;
          if (new RegExp(`import\\s*${names}\\s*from\\s*'js-yaml'`).test(text) || new RegExp(`${names}\\s*=\\s*require\\('js-yaml'\\)`).test(text)) {
            offenders.push(path.relative(root, p));
          }
        }
      }
    };
    for (const dir of ['cli', 'dashboard', 'embedded', 'actors', 'bus', 'common', 'messages']) walk(path.join(root, dir));
    expect(offenders).toEqual([]);
  });
});
