/**
 * The function runtime images (python3 and node), made on demand from this machine's own
 * interpreters, as busybox is made from its binary: no registry is reachable, and a function's
 * code is mounted at /code, so a new version of a function needs no image build.
 *
 * An image holds two layers: the busybox root filesystem (sh for debugging) and the runtime:
 * the interpreter at its real path, every shared library `ldd` lists (the dynamic loader too) at
 * the path the binary asks for, the python standard library (pruned, compiled .pyc kept), the loader at /mk/loader.*
 * and an empty /code. Its tag is a hash of the inputs, so a changed loader or interpreter gives a
 * new image and a rebuilt archive; the same inputs give byte-identical archives.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import type { CriClient } from '../cri/client';
import { BUILDER_VERSION, assetPath, busyboxLayer, cacheName, importBuilt, type BuiltImage, type EnsureImagesOptions, type ProgressFn } from './build';
import { ociArch, sha256, writeOciArchive, type LayerEntry } from './oci';

const run = promisify(execFile);

/** The function runtimes a runtime image exists for. */
export type FunctionRuntime = 'python3' | 'node';

/** Every function runtime, in build order. */
export const FUNCTION_RUNTIMES: readonly FunctionRuntime[] = ['python3', 'node'];

/** The image repository of each runtime; the tag is the inputs' hash (see `runtimeImageName`). */
export const RUNTIME_IMAGE_REPOSITORIES: Readonly<Record<FunctionRuntime, string>> = {
  python3: 'registry.mk.local/mk-runtime-python3',
  node: 'registry.mk.local/mk-runtime-node',
};

/** The port the loader listens on unless MK_FUNCTION_PORT says otherwise. */
export const LOADER_PORT = 8080;

/** Where the function's code is mounted in a runtime container (the loader's default codeDir). */
export const CODE_DIR = '/code';

/** Bump when the runtime image layout changes, so cached archives are rebuilt. */
const RUNTIME_BUILDER_VERSION = '3';

/** The PATH of a runtime container. */
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Thrown when the interpreter a runtime image is made from is not on this node: the image cannot
 * be built here until it is installed. Not retryable.
 */
export class InterpreterNotFoundError extends Error {
  override readonly name = 'InterpreterNotFoundError';
  constructor(readonly runtime: FunctionRuntime, options?: { cause?: unknown }) {
    super(`${runtime} not found on this node: the ${runtime} runtime image is built from the node's own interpreter (install ${runtime === 'python3' ? 'python3' : 'Node.js'} or pass its path)`, options);
  }
}

/** True when `err` is an InterpreterNotFoundError. */
export function isInterpreterNotFound(err: unknown): err is InterpreterNotFoundError {
  return err instanceof InterpreterNotFoundError;
}

/** Where the interpreters are; defaults: /usr/bin/python3 (else python3 on PATH), this process's node. */
export interface InterpreterPaths { python3?: string; node?: string; busybox?: string }

/** An interpreter found on this node, and what its image is keyed by. */
interface Interpreter {
  runtime: FunctionRuntime;
  /** The binary's real path (symlinks resolved): where it sits in the image too. */
  binary: string;
  /** Paths in the image that link to the binary (`/usr/bin/python3`). */
  aliases: string[];
  version: string;
  /** python: the standard library directories to copy. */
  stdlibDirs: string[];
  /** python: `sys.implementation.cache_tag` (`cpython-311`), naming the .pyc files to keep. */
  cacheTag: string;
  /** Files whose shared libraries the image needs besides the binary (python's extension modules). */
  extraElfs: string[];
  loader: { file: string; source: Buffer };
  cmd: string[];
  env: string[];
  key: string;
}

async function whichOnPath(exe: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(path.join(dir, exe))) return path.join(dir, exe);
  }
  return undefined;
}

// Parts of the standard library a function never needs; they are a third of its size.
const PRUNED = new Set(['test', 'tests', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'site-packages', 'dist-packages']);
const prunedFile = (name: string): boolean => /^config-\d/.test(name) || /^(_test|xxlimited|_xxtestfuzz)/.test(name);
// The compiled stdlib is kept (plain .pyc of this interpreter, not the -O ones): without it
// every cold start compiles http.server and friends again, half a second of a function's start.
const keptPyc = (name: string, cacheTag: string): boolean => name.endsWith(`.${cacheTag}.pyc`);

async function findPython(given?: string): Promise<Interpreter> {
  const candidate = given ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : await whichOnPath('python3'));
  if (!candidate || !existsSync(candidate)) throw new InterpreterNotFoundError('python3');
  // sys.executable, not the candidate: a pyenv or venv shim is not the interpreter itself.
  const script = 'import json,sys,sysconfig,os; p=sysconfig.get_paths(); print(json.dumps({"executable": sys.executable, "cacheTag": sys.implementation.cache_tag or "", "version": sys.version, "short": "%d.%d" % sys.version_info[:2], "stdlib": p["stdlib"], "platstdlib": p["platstdlib"], "dynload": os.path.join(p["platstdlib"], "lib-dynload")}))';
  let info: { executable: string; cacheTag: string; version: string; short: string; stdlib: string; platstdlib: string; dynload: string };
  try {
    info = JSON.parse((await run(candidate, ['-I', '-c', script], { timeout: 30_000 })).stdout) as typeof info;
  } catch (e) {
    throw new InterpreterNotFoundError('python3', { cause: e });
  }
  const binary = await realpath(info.executable);
  const dynload = existsSync(info.dynload) ? (await readdir(info.dynload)).filter((f) => f.endsWith('.so') && !prunedFile(f)).map((f) => path.join(info.dynload, f)) : [];
  const loader = { file: 'loader.py', source: await readFile(assetPath('loader.py', 'functions')) };
  const binHash = sha256(await readFile(binary));
  return {
    runtime: 'python3', binary, version: info.short,
    aliases: [...new Set(['/usr/bin/python3', '/usr/bin/python', candidate])].filter((a) => a !== binary),
    stdlibDirs: [...new Set([info.stdlib, info.platstdlib])],
    cacheTag: info.cacheTag,
    extraElfs: dynload,
    loader,
    cmd: [binary, '/mk/loader.py'],
    env: [PATH_ENV, 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1', `MK_FUNCTION_PORT=${LOADER_PORT}`],
    key: sha256([RUNTIME_BUILDER_VERSION, BUILDER_VERSION, ociArch(), 'python3', info.version, binHash, sha256(loader.source)].join('\0')),
  };
}

async function findNode(given?: string): Promise<Interpreter> {
  const candidate = given ?? process.execPath;
  if (!candidate || !existsSync(candidate)) throw new InterpreterNotFoundError('node');
  const binary = await realpath(candidate);
  let version: string;
  try {
    version = (await run(binary, ['-p', 'process.versions.node'], { timeout: 30_000 })).stdout.trim();
  } catch (e) {
    throw new InterpreterNotFoundError('node', { cause: e });
  }
  const loader = { file: 'loader.js', source: await readFile(assetPath('loader.js', 'functions')) };
  const binHash = sha256(await readFile(binary));
  return {
    runtime: 'node', binary, version,
    aliases: [...new Set(['/usr/bin/node', '/usr/bin/nodejs', candidate])].filter((a) => a !== binary),
    stdlibDirs: [],
    cacheTag: '',
    extraElfs: [],
    loader,
    cmd: [binary, '/mk/loader.js'],
    env: [PATH_ENV, `MK_FUNCTION_PORT=${LOADER_PORT}`],
    key: sha256([RUNTIME_BUILDER_VERSION, BUILDER_VERSION, ociArch(), 'node', version, binHash, sha256(loader.source)].join('\0')),
  };
}

/** Finds the interpreter; the key covers the busybox binary too, the image's other input. */
async function findInterpreter(runtime: FunctionRuntime, paths: InterpreterPaths = {}): Promise<Interpreter> {
  const interp = runtime === 'python3' ? await findPython(paths.python3) : await findNode(paths.node);
  const busybox = await readFile(paths.busybox ?? '/bin/busybox').catch((e: Error) => {
    throw new Error(`the ${runtime} runtime image starts from busybox, which could not be read (is busybox-static installed?): ${e.message}`, { cause: e });
  });
  return { ...interp, key: sha256(`${interp.key}\0${sha256(busybox)}`) };
}

/**
 * The shared libraries `ldd` lists for an ELF file, by the absolute path the loader looks them
 * up at (the dynamic loader included, the vDSO left out). Throws for a library ldd cannot find
 * when `strict`; otherwise skips it (an extension module nobody may import).
 */
export async function sharedLibraries(file: string, strict = true): Promise<string[]> {
  let out: string;
  try {
    out = (await run('ldd', [file], { timeout: 30_000 })).stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    // "not a dynamic executable": a static binary needs nothing.
    if (/not a dynamic executable|statically linked/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) return [];
    throw new Error(`ldd ${file} failed: ${err.stderr ?? String(e)}`, { cause: e });
  }
  const libs: string[] = [];
  for (const line of out.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (/statically linked/.test(line)) continue;
    const m = /^(\S+)\s+=>\s+(\S+)/.exec(line);
    if (m) {
      if (m[2] === 'not') {
        if (strict) throw new Error(`${file} needs ${m[1]}, which ldd cannot find`);
        continue;
      }
      libs.push(m[2]);
    } else if (line.startsWith('/')) {
      libs.push(line.split(/\s+/)[0]);
    }
  }
  return libs;
}

/** The image name (`registry.mk.local/mk-runtime-python3:<12 hex>`) for an inputs' key. */
export function runtimeImageName(runtime: FunctionRuntime, key: string): string {
  return `${RUNTIME_IMAGE_REPOSITORIES[runtime]}:${key.slice('sha256:'.length, 'sha256:'.length + 12)}`;
}

/** The name the runtime image gets on this node (hashes the interpreter; builds nothing). */
export async function runtimeImage(runtime: FunctionRuntime, paths?: InterpreterPaths): Promise<string> {
  return runtimeImageName(runtime, (await findInterpreter(runtime, paths)).key);
}

/** Adds `p` (absolute) and its parents to `dirs`, as relative paths. */
function addParents(dirs: Set<string>, p: string): void {
  const parts = p.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
}

/**
 * Walks a standard library dir: files and symlinks as they are, pruned dirs left out. Sources keep
 * their mtime: a .pyc is only used when the mtime it records matches its source's.
 */
async function walkStdlib(dir: string, cacheTag: string, dirs: Set<string>, out: LayerEntry[]): Promise<void> {
  dirs.add(dir.slice(1));
  const inCache = path.basename(dir) === '__pycache__';
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    const st = await lstat(full);
    if (st.isDirectory()) {
      if (!PRUNED.has(name)) await walkStdlib(full, cacheTag, dirs, out);
    } else if (st.isSymbolicLink()) {
      out.push({ type: 'symlink', path: full.slice(1), target: await readlink(full) });
    } else if (st.isFile() && !prunedFile(name) && (!inCache || keptPyc(name, cacheTag))) {
      const mtime = name.endsWith('.py') ? new Date(Math.floor(st.mtimeMs / 1000) * 1000) : undefined;
      out.push({ type: 'file', path: full.slice(1), mode: st.mode & 0o777, data: await readFile(full), mtime });
    }
  }
}

/** The runtime layer: interpreter, libraries, standard library, loader, /code. */
async function runtimeLayer(interp: Interpreter): Promise<LayerEntry[]> {
  const dirs = new Set<string>(['mk', CODE_DIR.slice(1)]);
  const files: LayerEntry[] = [];
  const libs = new Set<string>(await sharedLibraries(interp.binary));
  for (const elf of interp.extraElfs) for (const l of await sharedLibraries(elf, false)) libs.add(l);
  for (const d of interp.stdlibDirs) {
    addParents(dirs, d);
    await walkStdlib(d, interp.cacheTag, dirs, files);
  }
  const inStdlib = (p: string): boolean => interp.stdlibDirs.some((d) => p.startsWith(`${d}/`));
  for (const lib of [...libs].sort()) {
    if (inStdlib(lib)) continue;
    addParents(dirs, lib);
    files.push({ type: 'file', path: lib.slice(1), mode: 0o755, data: await readFile(await realpath(lib)) });
  }
  addParents(dirs, interp.binary);
  files.push({ type: 'file', path: interp.binary.slice(1), mode: 0o755, data: await readFile(interp.binary) });
  for (const alias of interp.aliases) {
    addParents(dirs, alias);
    files.push({ type: 'symlink', path: alias.slice(1), target: interp.binary });
  }
  files.push({ type: 'file', path: `mk/${interp.loader.file}`, mode: 0o644, data: interp.loader.source });
  // Sorted, a parent comes before its children; files may then land in any of them.
  return [...[...dirs].sort().map((d): LayerEntry => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 })), ...files];
}

/**
 * Builds the runtime image archive of `runtime` in `workDir` (or reuses the cached one for the
 * same inputs). Throws InterpreterNotFoundError when the interpreter is missing, and an Error
 * naming the file when ldd or reading fails.
 */
export async function buildRuntimeImage(runtime: FunctionRuntime, workDir: string, onProgress?: ProgressFn, paths: InterpreterPaths = {}): Promise<BuiltImage> {
  return buildFrom(await findInterpreter(runtime, paths), workDir, onProgress, paths.busybox);
}

async function buildFrom(interp: Interpreter, workDir: string, onProgress?: ProgressFn, busybox?: string): Promise<BuiltImage> {
  const name = runtimeImageName(interp.runtime, interp.key);
  // Two names, as busybox has: the hashed one and the one instance pods give (RUNTIME_IMAGE_LATEST).
  const names = [name, RUNTIME_IMAGE_LATEST[interp.runtime]];
  const tarPath = path.join(workDir, cacheName(`runtime-${interp.runtime}`, interp.key));
  if (existsSync(tarPath)) return { names, tarPath, cached: true };
  onProgress?.({ image: name, step: `pack ${interp.runtime} ${interp.version} from ${interp.binary}` });
  const layers = [await busyboxLayer(busybox), await runtimeLayer(interp)];
  onProgress?.({ image: name, step: 'write archive' });
  await writeOciArchive({
    names,
    layers,
    config: {
      cmd: interp.cmd,
      env: interp.env,
      workingDir: CODE_DIR,
      labels: { 'mk.io/function-runtime': interp.runtime, 'mk.io/function-runtime-version': interp.version },
    },
  }, tarPath);
  return { names, tarPath, cached: false };
}

/** Options of `ensureRuntimeImages`: those of the built-in images, plus which runtimes and where. */
export interface EnsureRuntimeImagesOptions extends EnsureImagesOptions {
  /** Default: every runtime. */
  runtimes?: readonly FunctionRuntime[];
  interpreters?: InterpreterPaths;
}

/** What `ensureRuntimeImages` did: image names imported or already there, and each runtime's image. */
export interface EnsureRuntimeImagesResult {
  imported: string[];
  present: string[];
  images: Partial<Record<FunctionRuntime, string>>;
}

/**
 * Makes sure the runtime images exist in containerd's k8s.io namespace, like
 * `ensureBuiltinImages`: an image CRI already has is skipped; a missing one is built (or taken
 * from the cache in workDir), imported, and awaited until CRI sees it. Progress events name the
 * image. Throws InterpreterNotFoundError for a runtime whose interpreter is not on this node, and
 * an Error with the tool's output when building or importing fails.
 */
export async function ensureRuntimeImages(cri: CriClient, opts: EnsureRuntimeImagesOptions): Promise<EnsureRuntimeImagesResult> {
  const result: EnsureRuntimeImagesResult = { imported: [], present: [], images: {} };
  let snapshotter = opts.snapshotter;
  for (const runtime of opts.runtimes ?? FUNCTION_RUNTIMES) {
    const interp = await findInterpreter(runtime, opts.interpreters);
    const image = runtimeImageName(runtime, interp.key);
    result.images[runtime] = image;
    opts.onProgress?.({ image, step: 'check' });
    // The hashed name says the image is this node's; `:latest` must name it too (an older build may hold it).
    const names = [image, RUNTIME_IMAGE_LATEST[runtime]];
    const have = await Promise.all(names.map(async (n) => (await cri.imageStatus({ image: { image: n } })).image?.id));
    if (have[0] && have[0] === have[1]) {
      result.present.push(...names);
      opts.onProgress?.({ image, step: 'present', done: true });
      continue;
    }
    snapshotter = await importBuilt(cri, opts, image, await buildFrom(interp, opts.workDir, opts.onProgress, opts.interpreters?.busybox), result, snapshotter);
  }
  return result;
}
