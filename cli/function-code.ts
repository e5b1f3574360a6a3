/**
 * What `mk function deploy` and `mk apply` do with a function's code before the Function reaches
 * the server: check that it parses where this machine has the interpreter, pack it, upload it to
 * the code bucket when the bucket lacks it, and put its digest, size and file count in the spec.
 * The JetStream client is loaded only here, and only when there is code to upload.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CoreBus } from '../bus/core-client';
import type { PackedCode } from '../bus/code-archive';

/** The code bucket's module, loaded on first use: it brings the JetStream client (see cli/client.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const codeModule = (): typeof import('../bus/function-code') => require('../bus/function-code') as typeof import('../bus/function-code');
import { CliError } from './errors';

/** Code at least this large gets a progress line while it uploads. */
export const PROGRESS_BYTES = 1024 * 1024;

/** The digest, size and file count a Function's spec.code carries. */
export interface CodeRef { digest: string; size: number; files: number }

/** `python3` on PATH, or undefined. */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Every file under `root` (or `root` itself), relative paths, sorted; symbolic links are followed as pack does. */
function listFiles(root: string): string[] {
  const st = fs.statSync(root);
  if (st.isFile()) return [path.basename(root)];
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const s = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
      if (s?.isDirectory()) walk(path.join(dir, name), r);
      else if (s?.isFile()) out.push(r);
    }
  };
  walk(root, '');
  return out;
}

/** The interpreter's own complaint from a failed check (its stderr, else stdout, else the error). */
function complaint(err: unknown): string {
  const e = err as { stderr?: Buffer | string; stdout?: Buffer | string; message?: string };
  const text = String(e.stderr ?? '').trim() || String(e.stdout ?? '').trim() || String(e.message ?? err);
  return text;
}

/**
 * Checks that the code parses: `python3 -m py_compile` on each .py file (in a temporary copy, so
 * no __pycache__ lands beside the user's files) when python3 is on PATH, and `node --check` on
 * each .js, .mjs and .cjs file. Throws CliError with the interpreter's own message.
 */
export function checkSyntax(codePath: string): void {
  const root = path.resolve(codePath);
  const dir = fs.statSync(root).isFile() ? path.dirname(root) : root;
  const files = listFiles(root);
  const py = files.filter((f) => f.endsWith('.py'));
  const js = files.filter((f) => /\.(js|mjs|cjs)$/.test(f));
  const python = py.length > 0 ? findOnPath('python3') : undefined;
  if (python) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-py-check-'));
    try {
      for (const f of py) {
        fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
        fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
      }
      execFileSync(python, ['-m', 'py_compile', ...py], { cwd: tmp, stdio: 'pipe', timeout: 60_000 });
    } catch (err) {
      throw new CliError(`the code does not compile:\n${complaint(err)}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  for (const f of js) {
    try {
      execFileSync(process.execPath, ['--check', f], { cwd: dir, stdio: 'pipe', timeout: 60_000 });
    } catch (err) {
      throw new CliError(`the code does not parse:\n${complaint(err)}`);
    }
  }
}

/** Packs `codePath` (a file or a directory). Throws CliError naming a missing path. */
export function packCode(codePath: string): PackedCode {
  if (!fs.existsSync(codePath)) throw new CliError(`the code path ${codePath} does not exist`);
  return codeModule().pack(codePath);
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

/**
 * Replaces a Function manifest's spec.code.path (relative to the manifest's file, or to the
 * working directory for stdin) by the digest, size and file count of the code it names, checked
 * and uploaded. Returns a new document; others are returned as they are. Throws CliError for a
 * missing path or code that does not parse.
 */
export async function resolveCodePath(doc: unknown, source: string, bus: CoreBus, progress: (line: string) => void): Promise<unknown> {
  const rel = codePathOf(doc);
  if (rel === undefined) return doc;
  const base = source === 'STDIN' ? process.cwd() : path.dirname(path.resolve(source));
  const abs = path.resolve(base, rel);
  const name = (doc as { metadata?: { name?: unknown } }).metadata?.name;
  if (!fs.existsSync(abs)) {
    throw new CliError(`Function "${String(name)}": spec.code.path ${rel} does not exist (looked for ${abs})`);
  }
  checkSyntax(abs);
  const code = await uploadCode(bus, packCode(abs), progress);
  const d = doc as { spec: Record<string, unknown> };
  return { ...d, spec: { ...d.spec, code } };
}
