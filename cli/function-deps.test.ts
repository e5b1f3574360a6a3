import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack } from '../bus/code-archive';
import { packWithDependencies } from './function-code';
import { dependencyFile, prepareCode } from './function-deps';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fn-deps-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const write = (rel: string, text: string): void => {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
};

describe('dependencyFile', () => {
  it('counts the requirements of requirements.txt, not its comments, blank lines or options', () => {
    write('requirements.txt', '# pinned\nrequests==2.31  # http\n\n--index-url http://x/simple\nsix\n');
    expect(dependencyFile(dir, 'python3')).toEqual({ tool: 'pip', file: 'requirements.txt', count: 2 });
  });

  it('reads package.json dependencies for node only, and ignores devDependencies', () => {
    write('package.json', JSON.stringify({ dependencies: { a: '1', b: '2' }, devDependencies: { c: '3' } }));
    write('requirements.txt', 'six\n');
    expect(dependencyFile(dir, 'node')).toEqual({ tool: 'npm', file: 'package.json', count: 2 });
    expect(dependencyFile(path.join(dir, 'package.json'), 'node')).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', devDependencies: { c: '3' } }));
    expect(dependencyFile(dir, 'node')).toBeUndefined();
  });

  it('finds nothing in a requirements.txt of comments, in a single file, or for the other runtime', () => {
    write('requirements.txt', '# nothing yet\n\n');
    expect(dependencyFile(dir, 'python3')).toBeUndefined();
    write('package.json', JSON.stringify({ dependencies: { a: '1' } }));
    expect(dependencyFile(dir, 'python3')).toBeUndefined();
  });

  it('refuses a package.json that is not JSON, naming it', () => {
    write('package.json', '{ "dependencies": ');
    expect(() => dependencyFile(dir, 'node')).toThrow(`${path.join(dir, 'package.json')} is not valid JSON`);
  });
});

describe('prepareCode', () => {
  it('returns the directory as it is, with a line saying why, for --no-deps, a dry run and a complete node_modules/', async () => {
    write('main.py', 'def handler(e):\n    return e\n');
    write('requirements.txt', 'six\nrequests\n');
    const lines: string[] = [];
    const progress = (l: string): void => { lines.push(l); };
    expect((await prepareCode(dir, { runtime: 'python3', install: false, dryRun: false, progress })).path).toBe(dir);
    expect((await prepareCode(dir, { runtime: 'python3', install: true, dryRun: true, progress })).path).toBe(dir);
    write('package.json', JSON.stringify({ dependencies: { left: '1' } }));
    write('node_modules/left/package.json', '{"name":"left","version":"1.0.0"}');
    expect((await prepareCode(dir, { runtime: 'node', install: true, dryRun: false, progress })).path).toBe(dir);
    expect(lines).toEqual([
      'not installing the 2 requirements of requirements.txt (--no-deps): only what the code directory holds is deployed',
      'dry run: not installing the 2 requirements of requirements.txt; the digest is of the code without them',
      'the 1 dependency of package.json is already in node_modules/: not installing (remove node_modules/ to install afresh)',
    ]);
  });

  it('takes requirements installed at the code\'s root (pip install --target) as vendored, by their dist-info names only', async () => {
    write('main.py', 'def handler(e):\n    return e\n');
    write('requirements.txt', 'Typing_Extensions>=4  # typing\nsix==1.16.0\n');
    write('six-1.16.0.dist-info/METADATA', 'Name: six\n');
    write('typing_extensions-4.9.0.dist-info/METADATA', 'Name: typing_extensions\n');
    const lines: string[] = [];
    const opts = { runtime: 'python3', install: true, dryRun: false, progress: (l: string): void => { lines.push(l); } };
    expect((await prepareCode(dir, opts)).path).toBe(dir);
    expect(lines).toEqual(['the 2 requirements of requirements.txt are already installed in the code directory: not installing (remove their .dist-info directories to install afresh)']);
    // One requirement without its dist-info, or a line that is more than a name, means an install.
    for (const extra of ['requests\n', '-r more.txt\n', 'six @ https://example.invalid/six.whl\n']) {
      write('requirements.txt', `six==1.16.0\n${extra}`);
      const path0 = process.env.PATH;
      process.env.PATH = path.join(dir, 'no-bin');
      try {
        await expect(prepareCode(dir, { ...opts, progress: () => undefined })).rejects.toThrow(/^python3 is not available/);
      } finally {
        process.env.PATH = path0;
      }
    }
  });

  it('says npm is missing, and leaves no temporary copy behind', async () => {
    write('index.js', 'exports.handler = (e) => e;\n');
    write('package.json', JSON.stringify({ dependencies: { left: '1' } }));
    const path0 = process.env.PATH;
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('mk-code-deps-')).length;
    process.env.PATH = dir;
    try {
      await expect(prepareCode(dir, { runtime: 'node', install: true, dryRun: false, progress: () => undefined })).rejects.toThrow(/^npm is not available: install npm/);
    } finally {
      process.env.PATH = path0;
    }
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('mk-code-deps-')).length).toBe(before);
  });

  it('names the user\'s directory, not the temporary copy, when the installed tree is over the size limit, and removes the copy', async () => {
    write('index.js', 'exports.handler = (e) => e;\n');
    write('package.json', JSON.stringify({ dependencies: { big: '1' } }));
    // An npm that "installs" 65 MiB: the packed tree passes the 64 MiB limit.
    write('bin/npm', '#!/bin/sh\nmkdir -p node_modules/big && head -c 68157440 /dev/zero > node_modules/big/blob\n');
    fs.chmodSync(path.join(dir, 'bin', 'npm'), 0o755);
    const code = path.join(dir, 'code');
    fs.mkdirSync(code);
    for (const f of ['index.js', 'package.json']) fs.renameSync(path.join(dir, f), path.join(code, f));
    const path0 = process.env.PATH;
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('mk-code-deps-')).length;
    const lines: string[] = [];
    process.env.PATH = `${path.join(dir, 'bin')}:${path0 ?? ''}`;
    try {
      await expect(packWithDependencies(code, pack(code), { runtime: 'node', install: true, dryRun: false, progress: (l) => { lines.push(l); } }))
        .rejects.toThrow(`${code} (with its dependencies installed): the code is larger than the limit of 67108864 bytes packed (64 MiB)`);
    } finally {
      process.env.PATH = path0;
    }
    expect(lines[0]).toBe('installing 1 dependency with npm ...');
    expect(lines[1]).toMatch(/^installed in \d+\.\d s$/);
    expect(fs.readdirSync(code).sort()).toEqual(['index.js', 'package.json']);
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('mk-code-deps-')).length).toBe(before);
  });
});
