/**
 * The pure parts of `mk workflow run`: reading `--input`, naming a run, turning `-f FILE` into the
 * spec a run carries inline, building the WorkflowRun, and wording how a run ended. No I/O but
 * reading the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NotFoundError } from '../messages/errors';
import type { KindInfo } from '../messages/kind';
import type { KubeObject } from '../messages/meta';
import type { WorkflowRunObject } from '../messages/printing/describe-workflow';
import type { PayloadRef } from '../messages/workflow/run';
import { MAX_INLINE_PAYLOAD_BYTES } from '../messages/workflow/limits';
import { compileWorkflowText, WorkflowTextError } from '../messages/workflow/minik8s';
import type { JsonValue } from '../messages/workflow/schema';
import type { WorkflowSpec } from '../messages/workflow/workflow';
import { CliError } from './errors';
import { MAX_MANIFEST_BYTES, parseManifests } from './manifest-reader';

/** The largest input `mk workflow run` takes; one over MAX_INLINE_PAYLOAD_BYTES goes through the object store. */
export const MAX_RUN_INPUT_BYTES = 64 * 1024 * 1024;

/** True when an input is too large for a run's spec and travels by reference (spec.inputRef). */
export function inputByReference(input: JsonValue): boolean {
  return Buffer.byteLength(JSON.stringify(input)) > MAX_INLINE_PAYLOAD_BYTES;
}

/**
 * Reads `--input` (or the text of `--input-file`): JSON when it parses as JSON (`5` is the number
 * 5, `'"x"'` the string x, `'{"a":1}'` an object), else the text itself as a string (`hello`), so
 * a plain word needs no quoting. `{}` when omitted, as a run's spec defaults. Throws CliError for
 * an input over MAX_RUN_INPUT_BYTES.
 */
export function parseRunInput(text: string | undefined, what = '--input'): JsonValue {
  if (text === undefined) return {};
  if (Buffer.byteLength(text) > MAX_RUN_INPUT_BYTES) {
    throw new CliError(`${what} is ${Buffer.byteLength(text)} bytes: a run's input may be at most ${MAX_RUN_INPUT_BYTES} bytes`);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * The characters of a generated name's suffix: Kubernetes' (no vowels, no 0, 1 or 3, so a suffix
 * never spells a word; k8s.io/apimachinery/pkg/util/rand/rand.go).
 */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** The suffix's length, and the longest base it is added to (k8s.io/apiserver/pkg/storage/names/generate.go). */
const SUFFIX_LENGTH = 5;
const MAX_BASE_LENGTH = 63 - SUFFIX_LENGTH - 1;

/**
 * A run's name: `<base>-<5 random characters>`, as Kubernetes' generateName makes one (the base
 * cut to 57 characters so the name stays a DNS-1123 label). `random` returns [0, 1).
 */
export function runName(base: string, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return `${base.slice(0, MAX_BASE_LENGTH).replace(/-+$/, '')}-${suffix}`;
}

/**
 * A file's base name without its extension, made a DNS-1123 label: lower case, every run of
 * other characters one `-`, no `-` at either end (`My_Flow.v2.txt` -> `my-flow-v2`); `workflow`
 * when nothing is left.
 */
export function fileRunBase(file: string): string {
  const stem = path.basename(file).replace(/\.[^.]*$/, '');
  const name = stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_BASE_LENGTH).replace(/-+$/, '');
  return name || 'workflow';
}

/** What `-f FILE` gives a run: the spec to carry inline and the base of the run's name. */
export interface FileWorkflow {
  spec: WorkflowSpec;
  base: string;
}

/** True for a file `-f` reads as a manifest (YAML or JSON) rather than as MiniK8s's text language. */
export function isManifestFile(file: string): boolean {
  return /\.(ya?ml|json)$/i.test(file);
}

/**
 * Compiles a program in MiniK8s's text language (messages/workflow/minik8s.ts). Throws CliError
 * naming the file and, where one line is at fault, the line: `flow.txt: line 3: ...`.
 */
export function compileRunText(text: string, file: string): FileWorkflow {
  try {
    return { spec: compileWorkflowText(text), base: fileRunBase(file) };
  } catch (e) {
    if (e instanceof WorkflowTextError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * Reads a manifest file holding one Workflow and takes its spec (the api checks it when the run is
 * created); the run is named after the Workflow. Throws CliError when the file does not hold
 * exactly one Workflow.
 */
export function manifestWorkflow(text: string, file: string): FileWorkflow {
  let docs;
  try {
    docs = parseManifests(text, file);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const workflows = docs.map((d) => d.doc as Partial<KubeObject> | null).filter((d) => d?.kind === 'Workflow');
  if (workflows.length !== 1 || docs.length !== 1) {
    throw new CliError(`${file}: expected one Workflow (kind: Workflow, apiVersion: mk.io/v1), found ${docs.length} document(s) and ${workflows.length} Workflow(s)`);
  }
  const wf = workflows[0]!;
  if (typeof wf.spec !== 'object' || wf.spec === null) throw new CliError(`${file}: the Workflow has no spec`);
  const name = typeof wf.metadata?.name === 'string' && wf.metadata.name ? wf.metadata.name : undefined;
  return { spec: wf.spec as WorkflowSpec, base: name ? fileRunBase(name) : fileRunBase(file) };
}

/** Reads `-f FILE`: a manifest (.yaml, .yml, .json) or MiniK8s's text language. Throws CliError. */
export function readRunFile(file: string): FileWorkflow {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_MANIFEST_BYTES) throw new CliError(`${file} is ${size} bytes: at most ${MAX_MANIFEST_BYTES} are read`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return isManifestFile(file) ? manifestWorkflow(text, file) : compileRunText(text, file);
}

/** The WorkflowRun to create: by reference (a Workflow's name) or carrying its spec inline. */
export function newRun(
  name: string, namespace: string, what: { workflowRef: string } | { workflow: WorkflowSpec }, input: JsonValue, inputRef?: PayloadRef,
): WorkflowRunObject {
  const given = inputRef ? { inputRef } : { input };
  const spec = 'workflowRef' in what ? { workflowRef: { name: what.workflowRef }, ...given } : { workflow: what.workflow, ...given };
  return { apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name, namespace }, spec } as WorkflowRunObject;
}

/**
 * kubectl's NotFound for a kind of a named API group: `workflows.mk.io "x" not found` (kubectl
 * qualifies the resource with its group: k8s.io/apimachinery/pkg/api/errors NewNotFound).
 */
export function groupNotFound(kind: Pick<KindInfo, 'plural' | 'apiVersion'>, name: string): NotFoundError {
  const group = kind.apiVersion.includes('/') ? `.${kind.apiVersion.split('/')[0]}` : '';
  return new NotFoundError(`${kind.plural}${group} "${name}" not found`);
}

/** The object key of an input the CLI keeps in the payload bucket for the run `name`, before the run exists. */
export function inputObjectKey(namespace: string, name: string, unique: string): string {
  return `inputs/${namespace}/${name}/${unique}`;
}

/** The line `mk workflow run --wait` prints on stderr for a run that did not succeed. */
export function runFailureLine(run: WorkflowRunObject): string {
  const st = run.status ?? {};
  const error = st.error ? `: ${st.error.error}${st.error.cause ? `: ${st.error.cause}` : ''}` : '';
  return `Error: run ${run.metadata.name} ${st.phase ?? 'Unknown'}${error}`;
}

/** What `--wait` shows on stderr while a run goes: its phase and the states running now. */
export function runProgressLine(run: WorkflowRunObject): string {
  const st = run.status ?? {};
  const states = st.currentStates ?? [];
  return `workflowrun.mk.io/${run.metadata.name}: ${st.phase ?? 'Pending'}${states.length ? ` (${states.join(', ')})` : ''}`;
}
