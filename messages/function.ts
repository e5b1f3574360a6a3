/**
 * The mk.io/v1 Function kind: code kept in the JetStream object store by its content hash (the
 * FUNCTION_CODE_BUCKET of messages/subjects.ts), the runtime that runs it, how it is called (a
 * handler, or as MiniK8s did a command whose stdout is the answer), and how far it may scale.
 * The function controller runs its instances and writes its status (actors/function/).
 */
import { z } from 'zod';
import { bounded } from './bounded';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { ConfigMapKeySelector, envVarNameError, SecretKeySelector } from './env-source';
import { ResourceRequirements } from './pod';
import {
  CODE_DIGEST, DEFAULT_CONCURRENCY, DEFAULT_IDLE_SECONDS, DEFAULT_MAX_INSTANCES, DEFAULT_MIN_INSTANCES, DEFAULT_TIMEOUT_SECONDS,
  FUNCTION_RUNTIMES, HANDLER_PATTERN, MAX_CONCURRENCY, MAX_INSTANCES, MAX_TIMEOUT_SECONDS, scalingAnnotationErrors,
} from './function-names';

export * from './function-names';

/** `Unsupported value: "ruby": supported values: "node", "python3"`, as Kubernetes words a bad enum. */
function unsupported(values: readonly string[]) {
  return (iss: { input?: unknown }): string => (iss.input === undefined
    ? 'Required value'
    : `Unsupported value: ${JSON.stringify(iss.input)}: supported values: ${[...values].sort().map((v) => `"${v}"`).join(', ')}`);
}

/** Where an environment variable's value comes from instead of `value`: a ConfigMap's or a Secret's key. */
export const FunctionEnvVarSource = z.strictObject({
  configMapKeyRef: ConfigMapKeySelector.optional().describe("A key of a ConfigMap in the function's namespace."),
  secretKeyRef: SecretKeySelector.optional().describe("A key of a Secret in the function's namespace."),
}).superRefine((s, ctx) => {
  if ((s.configMapKeyRef === undefined) === (s.secretKeyRef === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'must specify exactly one of: configMapKeyRef or secretKeyRef' });
  }
}).meta({ title: 'FunctionEnvVarSource' });

/** One environment variable of the function's instances, as a container's (name, value or valueFrom). */
export const FunctionEnvVar = z.strictObject({
  name: z.string().min(1).superRefine((n, ctx) => {
    const bad = envVarNameError(n);
    if (bad) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(n)}: ${bad}` });
  }).describe("The variable's name."),
  value: z.string().optional().describe('The value (empty when omitted).'),
  valueFrom: FunctionEnvVarSource.optional().describe('A ConfigMap or Secret key to take the value from instead. Not together with value.'),
}).superRefine((e, ctx) => {
  if (e.valueFrom && e.value !== undefined && e.value !== '') {
    ctx.addIssue({ code: 'custom', path: ['valueFrom'], message: 'may not be specified when `value` is not empty' });
  }
}).meta({ title: 'FunctionEnvVar' });
export type FunctionEnvVar = z.infer<typeof FunctionEnvVar>;

/**
 * The code: the digest, size and file count of its packed form in the code bucket (what the CLI
 * sets), or in a manifest a `path` (a file or directory relative to the manifest) that `mk apply`
 * packs, uploads and replaces by the three before the object reaches the server.
 */
export const FunctionCode = z.strictObject({
  digest: z.string().superRefine((d, ctx) => {
    if (!CODE_DIGEST.test(d)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(d)}: must be sha256:<64 lower-case hex digits>` });
  }).optional().describe('The sha256 of the packed code (`sha256:<64 hex>`): its name in the code bucket, which must hold it.'),
  size: bounded(0).optional().describe('The size of the packed code in bytes.'),
  files: bounded(0).optional().describe('How many files the packed code holds.'),
  path: z.string().min(1).optional().describe(
    'In a manifest only: a file or directory, relative to the manifest, that `mk apply` packs and uploads, then replaces by '
    + 'digest, size and files. The server never sees it.',
  ),
}, { error: (iss) => (iss.input === undefined ? 'Required value' : undefined) }).superRefine((c, ctx) => {
  if (c.path !== undefined) {
    for (const f of ['digest', 'size', 'files'] as const) {
      if (c[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'Forbidden: may not be specified together with `path`' });
    }
    return;
  }
  for (const f of ['digest', 'size', 'files'] as const) {
    if (c[f] === undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'Required value: give path, or digest, size and files' });
  }
}).meta({ title: 'FunctionCode' });
export type FunctionCode = z.infer<typeof FunctionCode>;

export const FunctionSpec = z.strictObject({
  runtime: z.enum(FUNCTION_RUNTIMES, { error: unsupported(FUNCTION_RUNTIMES) }).describe(
    'The language the code is in: `python3` or `node`. Instances run it in the built-in runtime image of that language.',
  ),
  handler: z.string().optional().describe(
    'The function to call, `<module>.<function>` (`add.handler` calls handler in add.py or add.js; the module may sit in a '
    + 'subdirectory, `lib/add.handler`). It gets the event and returns the result. Exactly one of handler and command.',
  ),
  command: z.string().optional().describe(
    'A command to run for each call instead of a handler, as MiniK8s ran functions (`python add.py`): the input is given as its '
    + 'arguments and its standard output is the result. Exactly one of handler and command.',
  ),
  code: FunctionCode.describe('The code the instances run: its packed form in the code bucket.'),
  env: z.array(FunctionEnvVar).optional().describe("Environment variables of the function's instances."),
  resources: ResourceRequirements.optional().describe('The CPU and memory each instance asks for and may use at most, as for a container.'),
  timeoutSeconds: bounded(1, MAX_TIMEOUT_SECONDS).optional().describe(
    `How long one call may run before it is answered with a timeout; ${DEFAULT_TIMEOUT_SECONDS} when omitted, at most ${MAX_TIMEOUT_SECONDS}.`,
  ),
  concurrency: bounded(1, MAX_CONCURRENCY).optional().describe(
    `How many calls one instance serves at once; ${DEFAULT_CONCURRENCY} when omitted, at most ${MAX_CONCURRENCY}.`,
  ),
  minInstances: bounded(0, MAX_INSTANCES).optional().describe(
    `The fewest instances kept running; ${DEFAULT_MIN_INSTANCES} (scale to zero when idle) when omitted.`,
  ),
  maxInstances: bounded(1, MAX_INSTANCES).optional().describe(
    `The most instances; ${DEFAULT_MAX_INSTANCES} when omitted, at most ${MAX_INSTANCES}, and at least minInstances.`,
  ),
  idleSeconds: bounded(1).optional().describe(
    `How long an instance above minInstances may go without a call before it is stopped; ${DEFAULT_IDLE_SECONDS} when omitted.`,
  ),
}).superRefine((s, ctx) => {
  for (const e of functionSpecErrors(s)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
}).meta({ title: 'FunctionSpec' });
export type FunctionSpec = z.infer<typeof FunctionSpec>;

/** Why `spec` is invalid across its fields (handler or command, instance bounds), one message per problem. */
export function functionSpecErrors(spec: FunctionSpec): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (spec.handler !== undefined && spec.command !== undefined) {
    out.push({ path: ['command'], message: 'Forbidden: may not be specified when `handler` is (give exactly one of handler and command)' });
  } else if (spec.handler === undefined && spec.command === undefined) {
    out.push({ path: ['handler'], message: 'Required value: give a handler (<module>.<function>) or a command' });
  }
  if (spec.handler !== undefined && !HANDLER_PATTERN.test(spec.handler)) {
    out.push({
      path: ['handler'],
      message: `Invalid value: ${JSON.stringify(spec.handler)}: must be <module>.<function> such as "add.handler", `
        + 'where both are identifiers and the module may name a subdirectory ("lib/add.handler")',
    });
  }
  if (spec.command !== undefined && spec.command.trim() === '') out.push({ path: ['command'], message: 'Required value: the command is empty' });
  const min = spec.minInstances ?? DEFAULT_MIN_INSTANCES;
  const max = spec.maxInstances ?? DEFAULT_MAX_INSTANCES;
  if (Number.isInteger(min) && Number.isInteger(max) && max < min) {
    out.push({ path: ['maxInstances'], message: `Invalid value: ${max}: must be greater than or equal to minInstances (${min})` });
  }
  return out;
}

/** Status is the function controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const FunctionSchema = z.strictObject({
  apiVersion: z.literal('mk.io/v1').describe('The API version of the kind: `mk.io/v1`.'),
  kind: z.literal('Function').describe('The kind of object: `Function`.'),
  metadata: ObjectMeta.describe("The function's name, namespace, labels and the metadata the server keeps."),
  spec: FunctionSpec.describe('The code, its runtime, how it is called, and how far it scales.'),
  status: z.unknown().optional().meta({
    title: 'FunctionStatus',
    description: 'What the function controller last counted: instances, readyInstances, lastInvocation, url, conditions and '
      + "observedGeneration. A manifest's status is ignored.",
  }),
}).superRefine((fn, ctx) => {
  for (const e of scalingAnnotationErrors(fn.metadata.annotations)) {
    ctx.addIssue({ code: 'custom', path: ['metadata', 'annotations', e.key], message: e.message });
  }
}).meta({ title: 'Function' });

/** A Function condition, in Kubernetes' shape (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/). */
export interface FunctionCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** What the function controller reports about a function's instances and calls. */
export interface FunctionStatus {
  instances?: number;
  readyInstances?: number;
  /** When the function was last called (RFC 3339). */
  lastInvocation?: string;
  /** Where it can be called over HTTP. */
  url?: string;
  conditions?: FunctionCondition[];
  observedGeneration?: number;
}

export interface FunctionObject {
  apiVersion: 'mk.io/v1';
  kind: 'Function';
  metadata: Meta;
  spec: FunctionSpec;
  status?: FunctionStatus;
}

/** The defaults of every optional spec field (see the field descriptions). */
export function defaultFunction(fn: FunctionObject): FunctionObject {
  return {
    ...fn,
    spec: {
      ...fn.spec,
      timeoutSeconds: fn.spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      concurrency: fn.spec.concurrency ?? DEFAULT_CONCURRENCY,
      minInstances: fn.spec.minInstances ?? DEFAULT_MIN_INSTANCES,
      maxInstances: fn.spec.maxInstances ?? DEFAULT_MAX_INSTANCES,
      idleSeconds: fn.spec.idleSeconds ?? DEFAULT_IDLE_SECONDS,
    },
  };
}
