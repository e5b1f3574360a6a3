/**
 * Reads `-f` arguments the way kubectl does: files, directories (*.yaml, *.yml, *.json; recursive
 * with -R) and `-` for stdin; multi-document YAML; `kind: List` flattened. Everything is parsed and
 * validated before the caller sends anything, so bad input changes nothing in the cluster.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { YAMLException } from 'js-yaml';
import { loadAllManifestYaml } from '../common/manifest-yaml';
import { isValidation, validateManifest, type Validated, type ValidateMode } from '../messages';

/** Files (and stdin) larger than this are refused before parsing. */
export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Thrown for unreadable, oversized, malformed or invalid input; the message names file and place. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** One document: where it came from (file, 1-based document number) and its parsed value. */
export interface ManifestDoc {
  source: string;
  index: number;
  doc: unknown;
}

/** A validated document, with where it came from. */
export interface ValidatedDoc extends Validated {
  source: string;
  index: number;
  raw: unknown;
}

/** Options for reading `-f` arguments. */
export interface ReadOptions {
  recursive?: boolean;
  /** Where `-` reads from (process.stdin by default). */
  stdin?: NodeJS.ReadableStream;
  maxBytes?: number;
}

/** Reads and parses every `-f` argument. Throws ManifestError on the first unreadable or malformed input. */
export async function readManifests(args: string[], opts: ReadOptions = {}): Promise<ManifestDoc[]> {
  const max = opts.maxBytes ?? MAX_MANIFEST_BYTES;
  if (args.filter((a) => a === '-').length > 1) throw new ManifestError('stdin ("-") can be given only once');
  const docs: ManifestDoc[] = [];
  for (const arg of args) {
    if (arg === '-') {
      docs.push(...parseManifests(await readStream(opts.stdin ?? process.stdin, max, 'STDIN'), 'STDIN'));
      continue;
    }
    if (/^https?:\/\//.test(arg)) throw new ManifestError(`reading manifests from URLs is not supported: ${arg}`);
    for (const file of expand(arg, opts.recursive ?? false)) docs.push(...parseManifests(readFile(file, max), file));
  }
  return docs;
}

/** Parses one source (YAML or JSON, several documents). Empty documents are skipped. */
export function parseManifests(text: string, source: string): ManifestDoc[] {
  let values: unknown[];
  try {
    values = loadAllManifestYaml(text, { filename: source });
  } catch (err) {
    if (err instanceof YAMLException) {
      const where = err.mark ? `line ${err.mark.line + 1}, column ${err.mark.column + 1}: ` : '';
      throw new ManifestError(`error parsing ${source}: ${where}${err.reason}`);
    }
    throw new ManifestError(`error parsing ${source}: ${(err as Error).message}`);
  }
  const docs: ManifestDoc[] = [];
  values.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const list = doc as { apiVersion?: unknown; kind?: unknown; items?: unknown };
    if (typeof doc === 'object' && list.kind === 'List' && list.apiVersion === 'v1' && Array.isArray(list.items)) {
      for (const item of list.items) docs.push({ source, index: i + 1, doc: item });
    } else {
      docs.push({ source, index: i + 1, doc });
    }
  });
  return docs;
}

/**
 * Validates every document and throws one ManifestError listing all problems (nothing is sent when
 * any document is bad). Unknown fields are errors in strict mode and warnings in warn mode.
 */
export function validateAll(docs: ManifestDoc[], mode: ValidateMode): ValidatedDoc[] {
  const out: ValidatedDoc[] = [];
  const problems: string[] = [];
  for (const d of docs) {
    try {
      out.push({ ...validateManifest(d.doc, mode), source: d.source, index: d.index, raw: d.doc });
    } catch (err) {
      if (!isValidation(err)) throw err;
      const unknownField = err.issues.some((i) => i.startsWith('unknown field'));
      const hint = unknownField && mode === 'strict' ? ' (use --validate=warn to ignore unknown fields)' : '';
      problems.push(`error validating "${d.source}"${docLabel(d, docs)}: ${err.message}${hint}`);
    }
  }
  if (problems.length > 0) throw new ManifestError(problems.join('\n'));
  if (out.length === 0) throw new ManifestError('no objects passed to apply');
  return out;
}

function docLabel(d: ManifestDoc, all: ManifestDoc[]): string {
  return all.filter((x) => x.source === d.source).length > 1 ? ` (document ${d.index})` : '';
}

function expand(arg: string, recursive: boolean): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(arg);
  } catch {
    throw new ManifestError(`the path "${arg}" does not exist`);
  }
  if (!st.isDirectory()) return [arg];
  const files: string[] = [];
  for (const entry of fs.readdirSync(arg, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(arg, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...expand(p, true));
    } else if (EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      files.push(p);
    }
  }
  return files;
}

function readFile(file: string, max: number): string {
  const size = fs.statSync(file).size;
  if (size > max) throw new ManifestError(tooBig(file, size, max));
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ManifestError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function readStream(stream: NodeJS.ReadableStream, max: number, source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > max) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new ManifestError(tooBig(source, size, max, true));
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooBig(source: string, size: number, max: number, partial = false): string {
  const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${source} is ${partial ? 'over ' : ''}${mib(size)}: manifests larger than ${mib(max)} are refused`;
}
