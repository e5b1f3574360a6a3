/**
 * The mk.io/v1 Trigger kind: binds one event source (a schedule, a file, a NATS subject or a
 * gateway HTTP path) to a function or a workflow, with how its firings are delivered (concurrency,
 * attempts with backoff, a dead-letter subject). Objects are strict: a field mk does not support
 * is reported by name, never dropped. The engine that runs triggers is actors/trigger/; this is
 * the contract it reads.
 */
import { z } from 'zod';
import { cronProblem, timeZoneProblem } from './cron';
import { parseDuration } from './duration';
import { ObjectMeta, SubdomainName, type ObjectMeta as Meta } from './meta';
import {
  DEFAULT_FILE_DEBOUNCE_MS, DEFAULT_HTTP_METHODS, DEFAULT_TRIGGER_BACKOFF_SECONDS, DEFAULT_TRIGGER_MAX_ATTEMPTS,
  DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS, FILE_EVENTS, fieldPathProblem, filePathProblem, headerNameProblem, HTTP_METHODS,
  httpPathProblem, MAX_FILE_DEBOUNCE_MS, MAX_TRIGGER_ATTEMPTS, MAX_TRIGGER_BACKOFF_SECONDS, patternProblem, subjectProblem,
} from './trigger-names';

export * from './trigger-names';

type Ctx = z.core.$RefinementCtx;

/** A string checked by `problem`, refused as `Invalid value: "<v>": <problem>`. */
function checked(problem: (v: string) => string | null) {
  return z.string().superRefine((v, ctx: Ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(v)}: ${p}` });
  });
}

/** A whole number in [min, max], with Kubernetes' wording when it is not. */
function bounded(min: number, max: number) {
  return z.number({ error: (iss) => (iss.input === undefined ? 'Required value' : `Invalid value: ${JSON.stringify(iss.input)}: must be a number`) })
    .superRefine((n, ctx) => {
      if (!Number.isInteger(n)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${n}: must be a whole number` });
      else if (n < min || n > max) ctx.addIssue({ code: 'custom', message: `Invalid value: ${n}: must be between ${min} and ${max}, inclusive` });
    });
}

/** Refuses an object that sets more or fewer than one of `keys` (as Kubernetes words a one-of). */
function exactlyOne(o: Record<string, unknown>, keys: readonly string[], ctx: Ctx): void {
  const set = keys.filter((k) => o[k] !== undefined);
  if (set.length === 0) ctx.addIssue({ code: 'custom', message: `Required value: must specify exactly one of: ${keys.join(', ')}` });
  for (const k of set.slice(1)) {
    ctx.addIssue({ code: 'custom', path: [k], message: `Forbidden: may not be specified when \`${set[0]}\` is (give exactly one of: ${keys.join(', ')})` });
  }
}

/** How a fixed `input` meets the event: Merge (the default) or Replace. */
export const TRIGGER_INPUT_MODES = ['Merge', 'Replace'] as const;
export type TriggerInputMode = (typeof TRIGGER_INPUT_MODES)[number];

/** What a firing calls, and with what. */
export const TriggerTarget = z.strictObject({
  function: SubdomainName.optional().describe("A Function in the trigger's namespace to call. Exactly one of function and workflow."),
  workflow: SubdomainName.optional().describe("A Workflow in the trigger's namespace to run. Exactly one of function and workflow."),
  input: z.json().optional().describe(
    'A fixed JSON value given to the target. Without it the target gets the event as it is. With it, inputMode says how the two meet.',
  ),
  inputMode: z.enum(TRIGGER_INPUT_MODES).optional().describe(
    'How input meets the event: Merge (the default) gives the event\'s top-level fields with input\'s fields over them when both '
    + 'are objects, and `{ event, ...input }` when the event is not an object; Replace gives input alone and drops the event. '
    + 'Only with input.',
  ),
}).superRefine((t, ctx) => {
  exactlyOne(t, ['function', 'workflow'], ctx);
  if (t.inputMode !== undefined && t.input === undefined) {
    ctx.addIssue({ code: 'custom', path: ['inputMode'], message: 'Forbidden: may only be specified together with `input`' });
  }
  if ((t.inputMode ?? 'Merge') === 'Merge' && t.input !== undefined && (t.input === null || typeof t.input !== 'object' || Array.isArray(t.input))) {
    ctx.addIssue({ code: 'custom', path: ['input'], message: 'Invalid value: Merge needs an object (give inputMode: Replace for any other JSON value)' });
  }
}).meta({ title: 'TriggerTarget' });
export type TriggerTarget = z.infer<typeof TriggerTarget>;

/** A time source: a cron schedule in a zone, or once a while after the trigger was created. */
export const ScheduleSource = z.strictObject({
  cron: checked(cronProblem).optional().describe(
    'When to fire, in cron syntax: minute hour day-of-month month day-of-week, with *, ranges, steps, lists and names, '
    + 'or a macro (@yearly @annually @monthly @weekly @daily @midnight @hourly). Exactly one of cron and after.',
  ),
  timeZone: checked(timeZoneProblem).optional().describe('The IANA time zone cron is read in (Europe/Paris); UTC when omitted. Only with cron.'),
  after: z.string().superRefine((v, ctx) => {
    try {
      parseDuration(v, 'Invalid value');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }).optional().describe('Fire once, this long after the trigger was created (`10s`, `1m30s`). Exactly one of cron and after.'),
  startingDeadlineSeconds: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'Seconds after its scheduled time a missed firing may still happen: after a restart every missed firing still within it '
    + 'fires, in order (at most 100); older ones are skipped with a warning. No limit when omitted.',
  ),
}).superRefine((s, ctx) => {
  exactlyOne(s, ['cron', 'after'], ctx);
  if (s.timeZone !== undefined && s.cron === undefined) {
    ctx.addIssue({ code: 'custom', path: ['timeZone'], message: 'Forbidden: may only be specified together with `cron`' });
  }
}).meta({ title: 'ScheduleSource' });
export type ScheduleSource = z.infer<typeof ScheduleSource>;

/** Changes of a path on one node. */
export const FileSource = z.strictObject({
  node: SubdomainName.describe('The node that holds the path; the trigger watches it there.'),
  path: checked(filePathProblem).describe("The absolute path of a file or directory on that node (no '.' or '..' segment)."),
  events: z.array(z.enum(FILE_EVENTS)).min(1, 'Required value: name at least one of create, write, delete').superRefine((evs, ctx) => {
    const seen = new Set<string>();
    for (const [i, e] of evs.entries()) {
      if (seen.has(e)) ctx.addIssue({ code: 'custom', path: [i], message: `Duplicate value: "${e}"` });
      seen.add(e);
    }
  }).optional().describe('The changes that fire: create, write, delete; all three when omitted.'),
  debounceMs: bounded(0, MAX_FILE_DEBOUNCE_MS).optional().describe(
    `Changes to one file closer together than this many milliseconds fire once, after the last, as what they came to `
    + `(a create followed by writes is a create, anything ending in a delete a delete); ${DEFAULT_FILE_DEBOUNCE_MS} when omitted.`,
  ),
}).meta({ title: 'FileSource' });
export type FileSource = z.infer<typeof FileSource>;

/**
 * A condition on a message: a header or a JSON field of the body, and one operator. Every filter
 * of a source must hold for the message to fire.
 */
export const TriggerFilter = z.strictObject({
  header: checked(headerNameProblem).optional().describe('A header of the message (case does not matter). Exactly one of header and field.'),
  field: checked(fieldPathProblem).optional().describe(
    'A JSONPath into the body parsed as JSON (`$.order.id`, `$.items[*].sku`); on a body that is not JSON the filter is false. '
    + 'Exactly one of header and field.',
  ),
  equals: z.json().optional().describe(
    'Holds when a value equals this one: a header\'s value as text; a field\'s as JSON (numbers as numbers). Exactly one operator.',
  ),
  matches: checked(patternProblem).optional().describe(
    'Holds when a value contains a match of this regular expression (anchor it with ^ and $ for a whole match); a field\'s number '
    + 'or boolean is tested as its JSON text. Exactly one operator.',
  ),
  present: z.boolean().optional().describe('true: holds when the header or field is there; false: when it is not. Exactly one operator.'),
}).superRefine((f, ctx) => {
  exactlyOne(f, ['header', 'field'], ctx);
  exactlyOne(f, ['equals', 'matches', 'present'], ctx);
  if (f.header !== undefined && f.equals !== undefined && typeof f.equals !== 'string') {
    ctx.addIssue({ code: 'custom', path: ['equals'], message: `Invalid value: ${JSON.stringify(f.equals)}: a header's value is text; quote it` });
  }
}).meta({ title: 'TriggerFilter' });
export type TriggerFilter = z.infer<typeof TriggerFilter>;

/** Messages on a NATS subject, kept durably until delivered. */
export const SubjectSource = z.strictObject({
  subject: z.string().superRefine((v, ctx) => {
    const p = subjectProblem(v, { wildcards: true });
    if (p) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(v)}: ${p}` });
  }).describe('The subject to listen on; `*` stands for one token and a last `>` for the rest. Not under mk., $JS., $KV., $O., $SYS. or _INBOX.'),
  filters: z.array(TriggerFilter).optional().describe('Conditions every message must meet to fire (all of them); every message fires when omitted.'),
}).meta({ title: 'SubjectSource' });
export type SubjectSource = z.infer<typeof SubjectSource>;

/** Requests to a path on the function gateway. */
export const HttpSource = z.strictObject({
  path: checked(httpPathProblem).describe(
    "The gateway path that fires (`/hooks/build`), matched exactly; not under the gateway's own /function/, /function-results/, /healthz or /metrics.",
  ),
  methods: z.array(z.enum(HTTP_METHODS)).min(1, 'Required value: name at least one method').superRefine((ms, ctx) => {
    const seen = new Set<string>();
    for (const [i, m] of ms.entries()) {
      if (seen.has(m)) ctx.addIssue({ code: 'custom', path: [i], message: `Duplicate value: "${m}"` });
      seen.add(m);
    }
  }).optional().describe(`The methods that fire (${HTTP_METHODS.join(', ')}); ${DEFAULT_HTTP_METHODS.join(', ')} when omitted.`),
}).meta({ title: 'HttpSource' });
export type HttpSource = z.infer<typeof HttpSource>;

/** The one source of a trigger. */
export const TriggerSource = z.strictObject({
  schedule: ScheduleSource.optional().describe('Fire on a cron schedule or once after a delay.'),
  file: FileSource.optional().describe('Fire when a path on a node changes.'),
  subject: SubjectSource.optional().describe('Fire on each message of a NATS subject that passes the filters.'),
  http: HttpSource.optional().describe('Fire on each request to a gateway path.'),
}).superRefine((s, ctx) => exactlyOne(s, ['schedule', 'file', 'subject', 'http'], ctx)).meta({ title: 'TriggerSource' });
export type TriggerSource = z.infer<typeof TriggerSource>;

/** What a trigger binds (source to target) and how it delivers its firings. */
export const TriggerSpec = z.strictObject({
  target: TriggerTarget.describe('The function or workflow each firing calls, and the input it gets.'),
  source: TriggerSource.describe('What fires the trigger: exactly one of schedule, file, subject and http.'),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).optional().describe(
    'What happens when a firing comes while an earlier one still runs, as a CronJob\'s: Allow (the default) runs both, '
    + 'Forbid skips the new one, Replace cancels the running ones and runs the new one.',
  ),
  maxAttempts: bounded(1, MAX_TRIGGER_ATTEMPTS).optional().describe(
    `How many times a firing is tried before it goes to the dead-letter subject; ${DEFAULT_TRIGGER_MAX_ATTEMPTS} when omitted.`,
  ),
  backoffSeconds: bounded(1, MAX_TRIGGER_BACKOFF_SECONDS).optional().describe(
    `The wait before the second try, doubling for each later one up to maxBackoffSeconds; ${DEFAULT_TRIGGER_BACKOFF_SECONDS} when omitted.`,
  ),
  maxBackoffSeconds: bounded(1, MAX_TRIGGER_BACKOFF_SECONDS).optional().describe(
    `The longest wait between tries; ${DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS} when omitted, and at least backoffSeconds.`,
  ),
  deadLetterSubject: z.string().superRefine((v, ctx) => {
    const p = subjectProblem(v, { wildcards: false });
    if (p) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(v)}: ${p}` });
  }).optional().describe(
    'Where a firing that failed every try is published, with its input and last error; '
    + '`mk.trigger.dlq.<namespace>.<name>` when omitted.',
  ),
}).superRefine((s, ctx) => {
  const initial = s.backoffSeconds ?? DEFAULT_TRIGGER_BACKOFF_SECONDS;
  const max = s.maxBackoffSeconds ?? DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS;
  if (Number.isInteger(initial) && Number.isInteger(max) && max < initial) {
    ctx.addIssue({ code: 'custom', path: ['maxBackoffSeconds'], message: `Invalid value: ${max}: must be greater than or equal to backoffSeconds (${initial})` });
  }
}).meta({ title: 'TriggerSpec' });
export type TriggerSpec = z.infer<typeof TriggerSpec>;

/** Status is the trigger engine's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const TriggerSchema = z.strictObject({
  apiVersion: z.literal('mk.io/v1').describe('The API version of the kind: `mk.io/v1`.'),
  kind: z.literal('Trigger').describe('The kind of object: `Trigger`.'),
  metadata: ObjectMeta.describe("The trigger's name, namespace, labels and the metadata the server keeps."),
  spec: TriggerSpec.describe('The source that fires, the target it calls and how firings are delivered.'),
  status: z.unknown().optional().meta({
    title: 'TriggerStatus',
    description: 'What the trigger engine last recorded: lastScheduleTime, lastFiringTime, counts of firings and their outcomes, '
      + "conditions and observedGeneration. A manifest's status is ignored.",
  }),
}).meta({ title: 'Trigger' });

/** A Trigger condition, in Kubernetes' shape (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/). */
export interface TriggerCondition {
  /** `Ready`: the source is bound (the subscription, route, watch or timer is in place). */
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** What the trigger engine records about a trigger's firings. */
export interface TriggerStatus {
  /**
   * Schedule sources: the latest scheduled time dealt with, fired or skipped as later than
   * startingDeadlineSeconds (RFC 3339). Nothing at or before it fires again, so a restart neither
   * misses nor doubles a firing. (A CronJob's records only started runs.)
   */
  lastScheduleTime?: string;
  /** When the last firing was handed to its target (RFC 3339), for any source. */
  lastFiringTime?: string;
  /** Firings handed to the target. */
  firings?: number;
  /** Firings whose target succeeded. */
  succeeded?: number;
  /** Tries that failed (each one retried, or its firing dead-lettered after the last). */
  failed?: number;
  /** Firings that failed every try and went to the dead-letter subject. */
  deadLettered?: number;
  /** Firings skipped: missed past startingDeadlineSeconds, or by concurrencyPolicy Forbid. */
  skipped?: number;
  /** Firings running now. */
  active?: number;
  conditions?: TriggerCondition[];
  observedGeneration?: number;
}

/** A Trigger object as the store keeps it. */
export interface Trigger {
  apiVersion: 'mk.io/v1';
  kind: 'Trigger';
  metadata: Meta;
  spec: TriggerSpec;
  status?: TriggerStatus;
}

/** The concurrency policy of a trigger (and of a CronJob). */
export type ConcurrencyPolicy = NonNullable<TriggerSpec['concurrencyPolicy']>;

/**
 * The trigger with every optional delivery and source field set to its default (see the field
 * descriptions); the dead-letter subject is derived from the namespace (`default` when unset) and name.
 */
export function defaultTrigger(t: Trigger): Trigger {
  const s = t.spec;
  const src = s.source;
  return {
    ...t,
    spec: {
      ...s,
      target: s.target.input !== undefined ? { ...s.target, inputMode: s.target.inputMode ?? 'Merge' } : s.target,
      source: {
        ...src,
        ...(src.file ? { file: { ...src.file, events: src.file.events ?? [...FILE_EVENTS], debounceMs: src.file.debounceMs ?? DEFAULT_FILE_DEBOUNCE_MS } } : {}),
        ...(src.http ? { http: { ...src.http, methods: src.http.methods ?? [...DEFAULT_HTTP_METHODS] } } : {}),
      },
      concurrencyPolicy: s.concurrencyPolicy ?? 'Allow',
      maxAttempts: s.maxAttempts ?? DEFAULT_TRIGGER_MAX_ATTEMPTS,
      backoffSeconds: s.backoffSeconds ?? DEFAULT_TRIGGER_BACKOFF_SECONDS,
      maxBackoffSeconds: s.maxBackoffSeconds ?? DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS,
    },
  };
}
