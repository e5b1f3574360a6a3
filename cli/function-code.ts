/**
 * What `mk function deploy` and `mk apply` do with a function's code before the Function reaches
 * the server: pack it, check that it parses where this machine has the interpreter, upload it to
 * the code bucket when the bucket lacks it, and put its digest, size and file count in the spec.
 * The JetStream client is loaded only here, and only when there is code to upload.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CoreBus } from '../bus/core-client';
import type { PackedCode } from '../bus/code-archive';
import type { DryRun } from './dry-run';

/** The code bucket's module, loaded on first use: it brings the JetStream client (see cli/client.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const codeModule = (): typeof import('../bus/function-code') => require('../bus/function-code') as typeof import('../bus/function-code');
import { CliError } from './errors';
import { findOnPath, prepareCode, type DependencyOptions } from './function-deps';

/** Code at least this large gets a progress line while it uploads. */
export const PROGRESS_BYTES = 1024 * 1024;

/** The digest, size and file count a Function's spec.code carries. */
export interface CodeRef { digest: string; size: number; files: number }

/** The interpreter's own complaint from a failed check (its stderr, else stdout, else the error). */
function complaint(err: unknown): string {
  const e = err as { stderr?: Buffer | string; stdout?: Buffer | string; message?: string };
  const text = String(e.stderr ?? '').trim() || String(e.stdout ?? '').trim() || String(e.message ?? err);
  return text;
}

/** How a Function calls its code (spec.handler or spec.command): what the syntax check reads. */
export interface CallStyle { handler?: string; command?: string }

const PYTHON = /\.py$/;
const JAVASCRIPT = /\.(js|mjs|cjs)$/;

/**
 * The packed files worth a syntax check: the handler's module (`lib/add.handler`: lib/add.py,
 * .js, .mjs or .cjs), the files a command names that the code holds, and every top-level source
 * file. Nothing else is spawned for: dependencies (node_modules/, site-packages/, vendor/) can
 * hold thousands of files, and they are their authors' to check.
 */
function filesToCheck(files: ReadonlyMap<string, Uint8Array>, call: CallStyle): string[] {
  const source = (f: string): boolean => PYTHON.test(f) || JAVASCRIPT.test(f);
  const out = new Set<string>();
  if (call.handler !== undefined) {
    const dot = call.handler.lastIndexOf('.');
    const module = dot > 0 ? call.handler.slice(0, dot) : call.handler;
    for (const ext of ['.py', '.js', '.mjs', '.cjs']) if (files.has(module + ext)) out.add(module + ext);
  }
  for (const word of (call.command ?? '').split(/\s+/)) {
    const f = word.replace(/^(\.\/)+/, '');
    if (source(f) && files.has(f)) out.add(f);
  }
  for (const f of files.keys()) if (!f.includes('/') && source(f)) out.add(f);
  return [...out].sort();
}

/** The package.json files above `js` in the code: they say whether a .js file is an ES module. */
function packageFiles(files: ReadonlyMap<string, Uint8Array>, js: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of js) {
    for (let dir = path.posix.dirname(f); ; dir = path.posix.dirname(dir)) {
      const p = dir === '.' ? 'package.json' : `${dir}/package.json`;
      if (files.has(p)) out.add(p);
      if (dir === '.') break;
    }
  }
  return [...out];
}

/**
 * Checks that the packed code parses, reading the files pack accepted (never the tree again):
 * `python3 -m py_compile` where python3 is on PATH, and `node --check`, on the files
 * filesToCheck picks, written to a temporary directory (no __pycache__ lands beside the user's
 * files) and named `./file` (a name starting with `-` is never taken for an option). Throws
 * CliError with the interpreter's own message.
 */
export function checkSyntax(packed: PackedCode, call: CallStyle): void {
  const files = new Map<string, Uint8Array>();
  for (const e of codeModule().readArchive(packed.bytes)) if (!e.dir) files.set(e.name, e.data);
  const chosen = filesToCheck(files, call);
  const py = chosen.filter((f) => PYTHON.test(f));
  const js = chosen.filter((f) => JAVASCRIPT.test(f));
  const python = py.length > 0 ? findOnPath('python3') : undefined;
  if (!python && js.length === 0) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-code-check-'));
  try {
    const needed = [...(python ? py : []), ...js, ...packageFiles(files, js)];
    for (const f of needed) {
      fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      fs.writeFileSync(path.join(tmp, f), files.get(f) ?? new Uint8Array());
    }
    if (python) {
      try {
        execFileSync(python, ['-m', 'py_compile', ...py.map((f) => `./${f}`)], { cwd: tmp, stdio: 'pipe', timeout: 60_000 });
      } catch (err) {
        throw new CliError(`the code does not compile:\n${complaint(err)}`);
      }
    }
    for (const f of js) {
      try {
        execFileSync(process.execPath, ['--check', `./${f}`], { cwd: tmp, stdio: 'pipe', timeout: 60_000 });
      } catch (err) {
        throw new CliError(`the code does not parse:\n${complaint(err)}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Packs `codePath` (a file or a directory). Throws CliError naming a missing path. */
export function packCode(codePath: string): PackedCode {
  if (!fs.existsSync(codePath)) throw new CliError(`the code path ${codePath} does not exist`);
  return codeModule().pack(codePath);
}

/**
 * `packed` (the code at `codePath` as it is), or the code with its dependencies installed
 * (cli/function-deps.ts: a requirements.txt or a package.json's dependencies, in a temporary
 * copy) packed instead. Throws CliError as prepareCode does, and when the installed tree does not
 * pack (over the size limit), naming `codePath`.
 */
export async function packWithDependencies(codePath: string, packed: PackedCode, opts: DependencyOptions): Promise<PackedCode> {
  const prepared = await prepareCode(codePath, opts);
  if (prepared.path === codePath) return packed;
  try {
    return packCode(prepared.path);
  } catch (err) {
    // pack names the temporary copy (the code over the size limit, say): name the user's directory.
    const message = err instanceof Error ? err.message.split(prepared.path).join(`${codePath} (with its dependencies installed)`) : String(err);
    throw new CliError(message);
  } finally {
    prepared.cleanup();
  }
}

/**
 * Uploads packed code when the bucket lacks it; `progress` gets a line before a large upload.
 * Resolves with the spec.code fields.
 */
export async function uploadCode(bus: CoreBus, packed: PackedCode, progress: (line: string) => void): Promise<CodeRef> {
  const { hasCode, openCodeBucket, putCode } = codeModule();
  const bucket = await openCodeBucket(bus.nc);
  if (packed.size >= PROGRESS_BYTES && !await hasCode(bucket, packed.digest)) {
    progress(`uploading ${(packed.size / (1024 * 1024)).toFixed(1)} MiB of code (${packed.files} files, ${packed.digest})`);
  }
  await putCode(bucket, packed);
  return { digest: packed.digest, size: packed.size, files: packed.files };
}

/** True when `doc` is a Function manifest whose spec.code names a path. */
export function codePathOf(doc: unknown): string | undefined {
  const d = doc as { apiVersion?: unknown; kind?: unknown; spec?: { code?: { path?: unknown } } } | null;
  if (d?.apiVersion !== 'mk.io/v1' || d.kind !== 'Function') return undefined;
  const p = d.spec?.code?.path;
  return typeof p === 'string' ? p : undefined;
}

/** What a Function manifest's spec says about how it is called, for checkSyntax. */
function callStyleOf(doc: unknown): CallStyle {
  const spec = (doc as { spec?: { handler?: unknown; command?: unknown } }).spec;
  return {
    ...(typeof spec?.handler === 'string' ? { handler: spec.handler } : {}),
    ...(typeof spec?.command === 'string' ? { command: spec.command } : {}),
  };
}

/**
 * Replaces a Function manifest's spec.code.path (relative to the manifest's file, or to the
 * working directory for stdin) by the digest, size and file count of the code it names: packed,
 * then checked, then its dependencies installed (unless `installDeps` is false), then uploaded.
 * A dry run (`client` or `server`) packs and checks but installs nothing and never writes to the
 * code bucket: it sends the digest as it is, so a server dry run of code the
 * bucket lacks is answered `spec.code.digest: Not found`, as a real apply would be without its
 * upload. Returns a new document; others are returned as they are. Throws CliError for a missing
 * path or code that does not parse, and ValidationError for code pack refuses.
 */
export async function resolveCodePath(
  doc: unknown, source: string, bus: CoreBus, progress: (line: string) => void, dryRun: DryRun = 'none', installDeps = true,
): Promise<unknown> {
  const rel = codePathOf(doc);
  if (rel === undefined) return doc;
  const base = source === 'STDIN' ? process.cwd() : path.dirname(path.resolve(source));
  const abs = path.resolve(base, rel);
  const name = (doc as { metadata?: { name?: unknown } }).metadata?.name;
  if (!fs.existsSync(abs)) {
    throw new CliError(`Function "${String(name)}": spec.code.path ${rel} does not exist (looked for ${abs})`);
  }
  const original = packCode(abs);
  checkSyntax(original, callStyleOf(doc));
  const runtime = (doc as { spec?: { runtime?: unknown } }).spec?.runtime;
  const packed = await packWithDependencies(abs, original, {
    runtime: typeof runtime === 'string' ? runtime : undefined, install: installDeps, dryRun: dryRun !== 'none', progress,
  });
  const code: CodeRef = dryRun === 'none'
    ? await uploadCode(bus, packed, progress)
    : { digest: packed.digest, size: packed.size, files: packed.files };
  const d = doc as { spec: Record<string, unknown> };
  return { ...d, spec: { ...d.spec, code } };
}
