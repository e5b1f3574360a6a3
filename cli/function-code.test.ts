import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack } from '../bus/code-archive';
import type { CoreBus } from '../bus/core-client';
import { checkSyntax, resolveCodePath } from './function-code';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fn-code-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const write = (rel: string, text: string): void => {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
};

/** A bus that must not be used: any touch of it fails the call that made it. */
const noBus = new Proxy({}, { get(): never { throw new Error('the bus was used'); } }) as CoreBus;

const manifest = (code: string, call: Record<string, string> = { handler: 'add.handler' }): unknown => ({
  apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name: 'add' }, spec: { runtime: 'python3', ...call, code: { path: code } },
});
const source = (): string => path.join(dir, 'fn.yaml');
const fails = async (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('it did not fail'); }, (err: unknown) => err as Error);
const BAD_PY = 'def handler(event:\n    return 1\n';
const BAD_JS = 'exports.handler = (event) => {\n';

describe('resolveCodePath', () => {
  it('packs before it checks: a link loop is refused by name, not walked until ELOOP', async () => {
    write('code/add.py', 'def handler(e):\n    return e\n');
    fs.symlinkSync('.', path.join(dir, 'code', 'a'));
    const err = await fails(resolveCodePath(manifest('code'), source(), noBus, () => undefined, 'server'));
    expect(err.message).toMatch(/code\/a: a symbolic link to a directory/);
    expect(err.message).not.toMatch(/ELOOP/);
  });

  it('refuses a link to / by name without walking it', async () => {
    write('code/add.py', 'def handler(e):\n    return e\n');
    fs.symlinkSync('/', path.join(dir, 'code', 'root'));
    const err = await fails(resolveCodePath(manifest('code'), source(), noBus, () => undefined, 'server'));
    expect(err.message).toMatch(/code\/root: a symbolic link that leaves the directory/);
  });

  it.each(['client', 'server'] as const)('in a %s dry run gives the digest without touching the code bucket', async (dryRun) => {
    write('code/add.py', 'def handler(e):\n    return e\n');
    const out = await resolveCodePath(manifest('code'), source(), noBus, () => undefined, dryRun) as { spec: { code: unknown } };
    const packed = pack(path.join(dir, 'code'));
    expect(out.spec.code).toEqual({ digest: packed.digest, size: packed.size, files: 1 });
  });

  it('checks the code it packed and names the interpreter\'s complaint', async () => {
    write('code/add.py', BAD_PY);
    const err = await fails(resolveCodePath(manifest('code'), source(), noBus, () => undefined, 'client'));
    expect(err.message).toMatch(/the code does not compile:[\s\S]*SyntaxError/);
  });
});

describe('checkSyntax', () => {
  it('leaves dependencies and dot-directories alone', () => {
    write('add.py', 'def handler(e):\n    return e\n');
    write('node_modules/dep/broken.js', BAD_JS);
    write('lib/python3.11/site-packages/dep/broken.py', BAD_PY);
    write('vendor/broken.py', BAD_PY);
    write('.git/hooks/broken.js', BAD_JS);
    expect(() => checkSyntax(pack(dir), { handler: 'add.handler' })).not.toThrow();
  });

  it('checks the handler\'s module in a subdirectory and the files a command names', () => {
    write('add.py', 'def handler(e):\n    return e\n');
    write('lib/calc.py', BAD_PY);
    expect(() => checkSyntax(pack(dir), { handler: 'add.handler' })).not.toThrow();
    expect(() => checkSyntax(pack(dir), { handler: 'lib/calc.handler' })).toThrow(/does not compile:[\s\S]*calc\.py[\s\S]*SyntaxError/);
    expect(() => checkSyntax(pack(dir), { command: 'python ./lib/calc.py' })).toThrow(/SyntaxError/);
    write('node_modules/tool/cli.js', BAD_JS);
    expect(() => checkSyntax(pack(dir), { command: 'node node_modules/tool/cli.js' })).toThrow(/does not parse:[\s\S]*SyntaxError/);
  });

  it('checks every top-level source file, even one whose name starts with "-"', () => {
    write('index.js', 'exports.handler = (e) => e;\n');
    write('-bad.js', BAD_JS);
    expect(() => checkSyntax(pack(dir), { handler: 'index.handler' })).toThrow(/does not parse:[\s\S]*-bad\.js[\s\S]*SyntaxError/);
  });

  it('reads an ES module as one where package.json says so', () => {
    write('package.json', '{"type":"module"}\n');
    write('index.js', 'export const handler = (e) => e;\n');
    write('lib/package.json', '{"type":"commonjs"}\n');
    write('lib/cjs.js', 'exports.handler = (e) => e;\n');
    write('esm/deep/mod.js', 'export const handler = (e) => e;\n');
    expect(() => checkSyntax(pack(dir), { handler: 'index.handler' })).not.toThrow();
    expect(() => checkSyntax(pack(dir), { handler: 'lib/cjs.handler' })).not.toThrow();
    expect(() => checkSyntax(pack(dir), { handler: 'esm/deep/mod.handler' })).not.toThrow();
  });
});
