/**
 * Function dependencies at deploy time, with the built CLI against a real nats-server and
 * control plane, and package indexes the test serves itself on loopback (test/helpers/
 * package-index.ts): a requirements.txt is installed with pip and a package.json's dependencies
 * with npm into a copy of the code, the uploaded archive holds them and the real loader imports
 * them; the user's directory is left as it was; --no-deps, dry runs and dependencies already
 * vendored (a complete node_modules/, requirements installed with pip --target) install nothing; an unreachable index, an unknown package and a missing pip or npm fail with a
 * clear message, uploading and applying nothing.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getCode, openCodeBucket, pack, readArchive, unpack, type CodeBucket } from '../../../bus/function-code';
import { objectKey, type FunctionObject } from '../../../messages';
import { startCliCluster, stopCliCluster, type CliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';
import { runCommand } from '../../helpers/run';
import { startLoaderProcess } from '../../helpers/loader-process';
import {
  buildWheel, closedPortUrl, packNpm, startNpmRegistry, startPythonIndex, type PackageIndex,
} from '../../helpers/package-index';

jest.setTimeout(120_000);

let cluster: CliCluster;
let bucket: CodeBucket;
let work: string;
let pypi: PackageIndex;
let registry: PackageIndex;
const loaders: ChildProcess[] = [];

/** pip and npm see only the test's index: no config file, find-links or cache of the machine's. */
function pipEnv(indexUrl: string): NodeJS.ProcessEnv {
  return {
    PIP_CONFIG_FILE: '/dev/null', PIP_INDEX_URL: indexUrl, PIP_EXTRA_INDEX_URL: undefined, PIP_FIND_LINKS: undefined,
    PIP_NO_INDEX: undefined, PIP_NO_CACHE_DIR: '1',
  };
}
function npmEnv(registryUrl: string): NodeJS.ProcessEnv {
  return { npm_config_registry: registryUrl, npm_config_cache: path.join(work, 'npm-cache'), npm_config_offline: undefined, npm_config_prefer_offline: undefined };
}

const mk = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runCli(args, { env: { MK_HOME: cluster.dir, ...env }, timeoutMs: 100_000 });
const stored = async (name: string): Promise<FunctionObject | undefined> =>
  (await cluster.store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object;
const objectsInBucket = async (): Promise<number> => (await bucket.os.list()).filter((o) => !o.deleted).length;

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

function codeDir(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), text);
  }
  return dir;
}

/** The stored Function's code, unpacked into a fresh directory; resolves with the directory and the archive's file names. */
async function storedCode(name: string): Promise<{ dir: string; files: string[] }> {
  const fn = await stored(name);
  if (!fn?.spec.code.digest) throw new Error(`function ${name} has no code`);
  const bytes = await getCode(bucket, fn.spec.code.digest);
  const dir = path.join(work, `unpacked-${name}-${loaders.length}`);
  unpack(bytes, dir);
  return { dir, files: readArchive(bytes).filter((e) => !e.dir).map((e) => e.name) };
}

/** Starts the real loader (loader.py or loader.js) on `codeDir` with `handler`, calls /run once with `event`, stops it. */
async function runLoader(runtime: 'python3' | 'node', codeDirPath: string, handler: string, event: unknown): Promise<{ status: number; body: unknown }> {
  const loader = await startLoaderProcess(runtime, codeDirPath, handler);
  loaders.push(loader.child);
  try {
    const r = await fetch(`${loader.url}/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });
    return { status: r.status, body: await r.json() };
  } finally {
    loader.child.kill('SIGKILL');
  }
}

beforeAll(async () => {
  cluster = await startCliCluster('deps');
  bucket = await openCodeBucket(cluster.bus.nc);
  work = path.join(cluster.dir, 'work');
  fs.mkdirSync(work);
  const dl = path.join(work, 'packages');
  fs.mkdirSync(dl);
  pypi = await startPythonIndex([
    buildWheel(dl, 'mkdeps-greet', '1.0.0', { 'mkdeps_greet/__init__.py': 'def greet(name):\n    return "hello, " + name\n' }),
  ]);
  registry = await startNpmRegistry([
    packNpm(dl, 'mkdeps-shout', '1.0.0', { 'index.js': 'exports.shout = (s) => s.toUpperCase() + "!";\n' }),
  ]);
}, 300_000);

afterAll(async () => {
  for (const c of loaders) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await pypi?.stop();
  await registry?.stop();
  await stopCliCluster(cluster ?? {});
});

const PY_MAIN = 'import mkdeps_greet\n\ndef handler(event):\n    return {"greeting": mkdeps_greet.greet(event["name"])}\n';
const JS_MAIN = 'const { shout } = require("mkdeps-shout");\nexports.handler = (event) => ({ shouted: shout(event.text) });\n';

describe('requirements.txt (python3)', () => {
  it('is installed with pip from the configured index into a copy; the archive holds the package, the loader imports it, a second deploy is unchanged', async () => {
    const dir = codeDir('py-ok', { 'main.py': PY_MAIN, 'requirements.txt': '# the greeting\nmkdeps-greet==1.0.0\n' });
    const before = tree(dir);
    const args = ['function', 'deploy', 'greet', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir];
    const r = await mk(args, pipEnv(pypi.url));
    expect(r.stdout).toBe('function.mk.io/greet created\n');
    expect(r.stderr).toMatch(/^installing 1 requirement with pip \.\.\.\ninstalled in \d+\.\d s\n$/);
    expect(r.code).toBe(0);
    expect(pypi.requests).toContain('/simple/mkdeps-greet/');
    expect(tree(dir)).toEqual(before);
    const code = await storedCode('greet');
    expect(code.files).toEqual(expect.arrayContaining(['main.py', 'requirements.txt', 'mkdeps_greet/__init__.py', 'mkdeps_greet-1.0.0.dist-info/METADATA']));
    expect(code.files.filter((f) => f.endsWith('.pyc'))).toEqual([]);
    expect((await stored('greet'))?.spec.code.digest).not.toBe(pack(dir).digest);
    expect(await runLoader('python3', code.dir, 'main.handler', { name: 'mk' })).toEqual({ status: 200, body: { greeting: 'hello, mk' } });
    // The same requirements pack to the same bytes.
    const again = await mk(args, pipEnv(pypi.url));
    expect(again.stdout).toBe('function.mk.io/greet unchanged\n');
  });

  it('installs with mk apply of a manifest whose spec.code.path is the directory', async () => {
    const dir = codeDir('py-apply/src', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-greet\n' });
    const manifest = path.join(work, 'py-apply', 'fn.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: greet-applied\nspec:\n  runtime: python3\n  handler: main.handler\n  code:\n    path: src\n');
    const r = await mk(['apply', '-f', manifest], pipEnv(pypi.url));
    expect(r).toMatchObject({ code: 0, stdout: 'function.mk.io/greet-applied created\n' });
    expect(r.stderr).toMatch(/installing 1 requirement with pip/);
    expect((await storedCode('greet-applied')).files).toContain('mkdeps_greet/__init__.py');
    expect(tree(dir)).toEqual(['main.py', 'requirements.txt']);
  });

  it('says so and fails when no index is reachable, naming it; nothing is uploaded or applied', async () => {
    const closed = `${await closedPortUrl()}/simple/`;
    const dir = codeDir('py-offline', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-greet==1.0.0\n' });
    const objects = await objectsInBucket();
    const r = await mk(['function', 'deploy', 'offline', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir], pipEnv(closed));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: no package index is reachable: pip could not connect to ${closed}`);
    expect(r.stderr).toContain('--no-deps');
    expect(await stored('offline')).toBeUndefined();
    expect(await objectsInBucket()).toBe(objects);
  });

  it('passes pip\'s own message through for a requirement the index does not have', async () => {
    const dir = codeDir('py-unknown', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-nothing-such==2.0\n' });
    const objects = await objectsInBucket();
    const r = await mk(['function', 'deploy', 'unknown', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir], pipEnv(pypi.url));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: pip could not install requirements.txt:');
    expect(r.stderr).toContain('No matching distribution found for mkdeps-nothing-such==2.0');
    expect(r.stderr).not.toContain('no package index is reachable');
    expect(await stored('unknown')).toBeUndefined();
    expect(await objectsInBucket()).toBe(objects);
  });

  it('deploys only the directory with --no-deps, and installs and uploads nothing in a dry run', async () => {
    const closed = `${await closedPortUrl()}/simple/`;
    const dir = codeDir('py-nodeps', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-greet==1.0.0\n' });
    const base = ['function', 'deploy', 'nodeps', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir];
    const asked = pypi.requests.length;
    const dry = await mk([...base, '--dry-run=client'], pipEnv(pypi.url));
    expect(dry).toEqual({
      code: 0, stdout: 'function.mk.io/nodeps created (dry run)\n',
      stderr: 'dry run: not installing the 1 requirement of requirements.txt; the digest is of the code without them\n',
    });
    expect(pypi.requests.length).toBe(asked);
    expect(await stored('nodeps')).toBeUndefined();
    const r = await mk([...base, '--no-deps'], pipEnv(closed));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('not installing the 1 requirement of requirements.txt (--no-deps)');
    expect((await stored('nodeps'))?.spec.code.digest).toBe(pack(dir).digest);
  });

  it('uses packages vendored with pip install --target at the code\'s root as they are, without an index', async () => {
    const dir = codeDir('py-vendored', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-greet==1.0.0\n' });
    // Not execFileSync: the index answers from this process's event loop.
    const vendor = await runCommand(['python3', '-m', 'pip', 'install', '--no-compile', '--target', dir, '-r', path.join(dir, 'requirements.txt')], { env: { ...process.env, ...pipEnv(pypi.url) }, timeoutMs: 60_000 });
    expect(vendor.code).toBe(0);
    const closed = `${await closedPortUrl()}/simple/`;
    const r = await mk(['function', 'deploy', 'vendored-py', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir], pipEnv(closed));
    expect(r).toEqual({
      code: 0, stdout: 'function.mk.io/vendored-py created\n',
      stderr: 'the 1 requirement of requirements.txt is already installed in the code directory: not installing (remove their .dist-info directories to install afresh)\n',
    });
    expect((await stored('vendored-py'))?.spec.code.digest).toBe(pack(dir).digest);
    const code = await storedCode('vendored-py');
    expect(await runLoader('python3', code.dir, 'main.handler', { name: 'offline' })).toEqual({ status: 200, body: { greeting: 'hello, offline' } });
  });

  it('says pip is missing when python3 has no pip module', async () => {
    const bin = path.join(work, 'nopip-bin');
    fs.mkdirSync(bin);
    const real = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'python3')).find((p) => fs.existsSync(p)) ?? '/usr/bin/python3';
    fs.writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "No module named pip" >&2; exit 1; fi\nexec ${real} "$@"\n`, { mode: 0o755 });
    const dir = codeDir('py-nopip', { 'main.py': PY_MAIN, 'requirements.txt': 'mkdeps-greet==1.0.0\n' });
    const r = await mk(['function', 'deploy', 'nopip', '--runtime', 'python3', '--handler', 'main.handler', '-f', dir], { ...pipEnv(pypi.url), PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: pip is not available: install python3-pip');
    expect(await stored('nopip')).toBeUndefined();
  });
});

describe('package.json (node)', () => {
  it('is installed with npm from the configured registry into a copy; the archive holds node_modules, the loader requires it', async () => {
    const dir = codeDir('js-ok/src', {
      'index.js': JS_MAIN,
      'package.json': JSON.stringify({ name: 'shouter', version: '1.0.0', dependencies: { 'mkdeps-shout': '^1.0.0' } }),
    });
    const manifest = path.join(work, 'js-ok', 'fn.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: shout\nspec:\n  runtime: node\n  handler: index.handler\n  code:\n    path: src\n');
    const r = await mk(['apply', '-f', manifest], npmEnv(registry.url));
    expect(r.stdout).toBe('function.mk.io/shout created\n');
    expect(r.stderr).toMatch(/^installing 1 dependency with npm \.\.\.\ninstalled in \d+\.\d s\n$/);
    expect(r.code).toBe(0);
    expect(registry.requests).toContain('/mkdeps-shout');
    expect(tree(dir)).toEqual(['index.js', 'package.json']);
    const code = await storedCode('shout');
    expect(code.files).toEqual(expect.arrayContaining(['index.js', 'package.json', 'node_modules/mkdeps-shout/index.js', 'node_modules/mkdeps-shout/package.json']));
    expect(await runLoader('node', code.dir, 'index.handler', { text: 'hi' })).toEqual({ status: 200, body: { shouted: 'HI!' } });
    expect(await mk(['apply', '-f', manifest], npmEnv(registry.url))).toMatchObject({ code: 0, stdout: 'function.mk.io/shout unchanged\n' });
  });

  it('uses a vendored node_modules/ that holds every dependency as it is, without a registry', async () => {
    const closed = `${await closedPortUrl()}/`;
    const dir = codeDir('js-vendored', {
      'index.js': JS_MAIN,
      'package.json': JSON.stringify({ name: 'shouter', version: '1.0.0', dependencies: { 'mkdeps-shout': '^1.0.0' } }),
      'node_modules/mkdeps-shout/package.json': JSON.stringify({ name: 'mkdeps-shout', version: '1.0.0' }),
      'node_modules/mkdeps-shout/index.js': 'exports.shout = (s) => s + "?";\n',
    });
    const r = await mk(['function', 'deploy', 'vendored', '--runtime', 'node', '--handler', 'index.handler', '-f', dir], npmEnv(closed));
    expect(r).toEqual({
      code: 0, stdout: 'function.mk.io/vendored created\n',
      stderr: 'the 1 dependency of package.json is already in node_modules/: not installing (remove node_modules/ to install afresh)\n',
    });
    const code = await storedCode('vendored');
    expect((await stored('vendored'))?.spec.code.digest).toBe(pack(dir).digest);
    expect(await runLoader('node', code.dir, 'index.handler', { text: 'hi' })).toEqual({ status: 200, body: { shouted: 'hi?' } });
  });

  it('says so and fails when no registry is reachable, naming it; nothing is uploaded or applied', async () => {
    const closed = `${await closedPortUrl()}/`;
    const dir = codeDir('js-offline', {
      'index.js': JS_MAIN, 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { 'mkdeps-shout': '1.0.0' } }),
    });
    const objects = await objectsInBucket();
    const r = await mk(['function', 'deploy', 'js-offline', '--runtime', 'node', '--handler', 'index.handler', '-f', dir], npmEnv(closed));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: no package registry is reachable: npm could not connect to ${closed} (ECONNREFUSED`);
    expect(r.stderr).toContain('--no-deps');
    expect(await stored('js-offline')).toBeUndefined();
    expect(await objectsInBucket()).toBe(objects);
    expect(tree(dir)).toEqual(['index.js', 'package.json']);
  });

  it('passes npm\'s own message through for a package the registry does not have', async () => {
    const dir = codeDir('js-unknown', {
      'index.js': JS_MAIN, 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { 'mkdeps-nothing-such': '^1.0.0' } }),
    });
    const r = await mk(['function', 'deploy', 'js-unknown', '--runtime', 'node', '--handler', 'index.handler', '-f', dir], npmEnv(registry.url));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: npm could not install package.json\'s dependencies:');
    expect(r.stderr).toContain(`404 Not Found - GET ${registry.url}mkdeps-nothing-such`);
    expect(r.stderr).not.toContain('A complete log');
    expect(await stored('js-unknown')).toBeUndefined();
  });

  it('says npm is missing when it is not on PATH', async () => {
    const bin = path.join(work, 'empty-bin');
    fs.mkdirSync(bin);
    const dir = codeDir('js-nonpm', {
      'index.js': JS_MAIN, 'package.json': JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { 'mkdeps-shout': '1.0.0' } }),
    });
    const r = await mk(['function', 'deploy', 'js-nonpm', '--runtime', 'node', '--handler', 'index.handler', '-f', dir], { ...npmEnv(registry.url), PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: npm is not available: install npm');
    expect(await stored('js-nonpm')).toBeUndefined();
  });
});
