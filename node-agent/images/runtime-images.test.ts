/**
 * The runtime image builder without a containerd: a missing interpreter is a clear error, ldd's
 * output becomes library paths, and the python image built from this machine's interpreter holds
 * the interpreter, its libraries, the pruned stdlib, the loader and /code, with the config that
 * starts the loader. (Running the images is test/e2e/runtime/function-runtimes.test.ts.)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import {
  InterpreterNotFoundError, buildRuntimeImage, isInterpreterNotFound, runtimeImage, sharedLibraries,
} from './runtime-images';

jest.setTimeout(120_000);

/** The entries of an in-memory tar, by path, with their contents. */
function readTar(buf: Buffer): Promise<Map<string, { type: string; mode: number; linkpath?: string; data: Buffer }>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, { type: string; mode: number; linkpath?: string; data: Buffer }>();
    const p = new Parser({ strict: true });
    p.on('entry', (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => out.set(e.path.replace(/\/$/, ''), { type: e.type, mode: e.mode ?? -1, linkpath: e.linkpath, data: Buffer.concat(chunks) }));
    });
    p.on('end', () => resolve(out));
    p.on('error', reject);
    p.end(buf);
  });
}

let tmp: string;
beforeAll(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'mk-runtime-img-')); });
afterAll(async () => { if (tmp) await rm(tmp, { recursive: true, force: true }); });

describe('runtime images', () => {
  it('names the missing interpreter and why it is needed', async () => {
    const py = buildRuntimeImage('python3', tmp, undefined, { python3: '/nonexistent/python3' });
    await expect(py).rejects.toThrow(InterpreterNotFoundError);
    await expect(py).rejects.toThrow(/^python3 not found on this node: the python3 runtime image is built from the node's own interpreter/);
    const node = await runtimeImage('node', { node: '/nonexistent/node' }).catch((e: unknown) => e);
    expect(isInterpreterNotFound(node)).toBe(true);
    expect((node as Error).message).toMatch(/^node not found on this node: the node runtime image is built from the node's own interpreter/);
  });

  it('lists the shared libraries of a dynamic binary by absolute path, the dynamic loader included', async () => {
    const libs = await sharedLibraries(process.execPath);
    expect(libs.length).toBeGreaterThan(1);
    expect(libs.every((l) => path.isAbsolute(l) && existsSync(l))).toBe(true);
    expect(libs.some((l) => /\/ld-(linux|musl)[^/]*\.so/.test(l))).toBe(true);
    expect(libs.some((l) => /\/libc\.so/.test(l))).toBe(true);
    expect(libs.some((l) => l.includes('vdso'))).toBe(false);
    // busybox-static has none.
    if (existsSync('/bin/busybox')) expect(await sharedLibraries('/bin/busybox')).toEqual([]);
  });

  it('names an image by a hash of its inputs: the same inputs, the same tag', async () => {
    const a = await runtimeImage('node');
    expect(a).toMatch(/^registry\.mk\.local\/mk-runtime-node:[0-9a-f]{12}$/);
    expect(await runtimeImage('node')).toBe(a);
  });

  const python = existsSync('/usr/bin/python3') ? it : it.skip;
  python('builds the python3 image from /usr/bin/python3: interpreter, libraries, pruned stdlib, loader, /code and the loader as its command', async () => {
    const built = await buildRuntimeImage('python3', tmp);
    expect(built.cached).toBe(false);
    expect(built.names).toEqual([await runtimeImage('python3'), RUNTIME_IMAGE_LATEST.python3]);
    expect(await buildRuntimeImage('python3', tmp)).toEqual({ ...built, cached: true });

    const layout = await readTar(await readFile(built.tarPath));
    const index = JSON.parse(layout.get('index.json')?.data.toString() ?? '{}') as { manifests: { digest: string }[] };
    const blob = (d: string): Buffer => layout.get(`blobs/sha256/${d.slice('sha256:'.length)}`)?.data ?? Buffer.alloc(0);
    const manifest = JSON.parse(blob(index.manifests[0].digest).toString()) as { config: { digest: string }; layers: { digest: string }[] };
    const config = JSON.parse(blob(manifest.config.digest).toString()) as { config: { Cmd: string[]; Env: string[]; WorkingDir: string } };
    const binary = await realpath('/usr/bin/python3');
    expect(config.config.Cmd).toEqual([binary, '/mk/loader.py']);
    expect(config.config.WorkingDir).toBe('/code');
    expect(config.config.Env).toEqual(expect.arrayContaining(['PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1', expect.stringMatching(/^PATH=/)]));
    expect(manifest.layers).toHaveLength(2);

    const [base, runtime] = await Promise.all(manifest.layers.map((l) => readTar(gunzipSync(blob(l.digest)))));
    expect(base.get('bin/busybox')?.type).toBe('File');
    expect(runtime.get(binary.slice(1))?.type).toBe('File');
    expect(runtime.get('usr/bin/python3')?.linkpath ?? binary).toBe(binary);
    expect(runtime.get('mk/loader.py')?.data.toString()).toBe(await readFile(path.join(__dirname, '..', 'functions', 'loader.py'), 'utf8'));
    expect(runtime.get('code')?.type).toBe('Directory');
    for (const lib of await sharedLibraries(binary)) expect(runtime.get(lib.slice(1))?.type).toBe('File');
    const paths = [...runtime.keys()];
    const stdlib = paths.find((p) => /\/python3\.\d+\/os\.py$/.test(p));
    expect(stdlib).toBeDefined();
    const lib = path.dirname(stdlib ?? '');
    expect(paths.some((p) => p.startsWith(`${lib}/http/server.py`))).toBe(true);
    for (const pruned of ['test', 'idlelib', 'tkinter', 'ensurepip', 'lib2to3']) {
      expect(paths.filter((p) => p.startsWith(`${lib}/${pruned}/`))).toEqual([]);
    }
    expect(paths.filter((p) => /\.opt-\d\.pyc$/.test(p))).toEqual([]);
  });
});
