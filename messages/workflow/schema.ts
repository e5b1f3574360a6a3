/**
 * The mk.io/v1 Workflow and WorkflowRun kinds: durable workflows in the style of AWS Step Functions'
 * Amazon States Language (https://states-language.net/spec.html), a subset with camelCase fields.
 * These schemas check each field's shape; what spans fields (names that must exist, exactly one of
 * next and end, reachability, endless loops, paths that must parse) is checked by validate.ts,
 * which WorkflowSpec (workflow.ts) runs as its refinement, so parsing a spec checks all of it.
 */
import { z } from 'zod';
import { bounded } from '../bounded';
import {
  BOOLEAN_COMPARISONS, NUMERIC_COMPARISONS, PATH_COMPARISONS, STRING_COMPARISONS, TIMESTAMP_COMPARISONS, TYPE_TESTS, type ComparisonOperator,
} from './operators';

/** The name of a state: a key of a states map. */
export const StateName = z.string().min(1, { message: 'Required value: a state name may not be empty' });

/** Any JSON value: a Pass state's result, a run's input and output. */
export const JsonValue = z.json();
export type JsonValue = z.infer<typeof JsonValue>;

/** A JSONPath (inputPath, outputPath, itemsPath), or null for `{}` (inputPath, outputPath). */
const NullablePath = z.string().nullable();

/**
 * A payload template (parameters, resultSelector): JSON whose keys ending in `.$` take the value
 * of a path (`"sum.$": "$.a"`), read from the input, or from the context object with `$$.`.
 */
export const PayloadTemplate = z.record(z.string(), z.json());
export type PayloadTemplate = z.infer<typeof PayloadTemplate>;

/** How a retry's delay is spread: FULL draws it uniformly from [0, delay], NONE waits the delay. */
export const JITTER_STRATEGIES = ['FULL', 'NONE'] as const;

/** When a state fails with one of errorEquals, try it again, waiting intervalSeconds * backoffRate^(attempt-1). */
export const Retrier = z.strictObject({
  errorEquals: z.array(z.string().min(1)).min(1, { message: 'Required value: name at least one error (or States.ALL)' })
    .describe('The errors this retrier handles: Step Functions names such as `States.Timeout`, a function\'s own errorType, or `States.ALL`.'),
  intervalSeconds: bounded(1).optional().describe('Seconds before the first retry; 1 when omitted.'),
  maxAttempts: bounded(0).optional().describe('How many retries at most; 3 when omitted, 0 for none.'),
  backoffRate: z.number().min(1, { message: 'must be greater than or equal to 1' }).optional()
    .describe('The multiplier of the interval after each retry; 2.0 when omitted.'),
  maxDelaySeconds: bounded(1).optional().describe('The longest delay between two attempts, whatever the backoff.'),
  jitter: z.enum(JITTER_STRATEGIES).optional().describe('FULL draws each delay uniformly from [0, delay]; NONE (the default) waits it all.'),
}).meta({ title: 'Retrier' });
export type Retrier = z.infer<typeof Retrier>;

/** When a state fails with one of errorEquals (after its retries), go to next with `{ error, cause }` at resultPath. */
export const Catcher = z.strictObject({
  errorEquals: z.array(z.string().min(1)).min(1, { message: 'Required value: name at least one error (or States.ALL)' })
    .describe('The errors this catcher handles, as in a retrier.'),
  next: StateName.describe('The state to go to.'),
  resultPath: z.string().nullable().optional().describe('Where `{ error, cause }` goes in the state\'s input; `$` (replace it) when omitted.'),
}).meta({ title: 'Catcher' });
export type Catcher = z.infer<typeof Catcher>;


/**
 * A Choice rule: a comparison (`variable` and exactly one operator), or `and` / `or` of rules, or
 * `not` of a rule. A top-level rule has `next`; a nested one has none. Which fields go together is
 * checked by validate.ts.
 */
export interface ChoiceRule {
  variable?: string;
  numericEquals?: number; numericLessThan?: number; numericGreaterThan?: number; numericLessThanEquals?: number; numericGreaterThanEquals?: number;
  stringEquals?: string; stringLessThan?: string; stringGreaterThan?: string; stringLessThanEquals?: string; stringGreaterThanEquals?: string;
  stringMatches?: string;
  booleanEquals?: boolean;
  timestampEquals?: string; timestampLessThan?: string; timestampGreaterThan?: string; timestampLessThanEquals?: string;
  timestampGreaterThanEquals?: string;
  isPresent?: boolean; isNull?: boolean; isNumeric?: boolean; isString?: boolean; isBoolean?: boolean; isTimestamp?: boolean;
  numericEqualsPath?: string; numericLessThanPath?: string; numericGreaterThanPath?: string; numericLessThanEqualsPath?: string;
  numericGreaterThanEqualsPath?: string;
  stringEqualsPath?: string; stringLessThanPath?: string; stringGreaterThanPath?: string; stringLessThanEqualsPath?: string;
  stringGreaterThanEqualsPath?: string;
  booleanEqualsPath?: string;
  timestampEqualsPath?: string; timestampLessThanPath?: string; timestampGreaterThanPath?: string; timestampLessThanEqualsPath?: string;
  timestampGreaterThanEqualsPath?: string;
  and?: ChoiceRule[];
  or?: ChoiceRule[];
  not?: ChoiceRule;
  next?: string;
}

function operandShape(): Record<ComparisonOperator, z.ZodOptional<z.ZodType>> {
  const shape = {} as Record<ComparisonOperator, z.ZodOptional<z.ZodType>>;
  for (const c of NUMERIC_COMPARISONS) shape[c] = z.number().optional();
  for (const c of STRING_COMPARISONS) shape[c] = z.string().optional();
  for (const c of BOOLEAN_COMPARISONS) shape[c] = z.boolean().optional();
  for (const c of TIMESTAMP_COMPARISONS) shape[c] = z.string().optional();
  for (const c of TYPE_TESTS) shape[c] = z.boolean().optional();
  for (const c of PATH_COMPARISONS) shape[c] = z.string().optional();
  return shape;
}

/** The schema of a ChoiceRule (recursive through and, or, not). */
export const ChoiceRule: z.ZodType<ChoiceRule> = z.strictObject({
  variable: z.string().optional().describe('The path of the value to compare, in the state\'s input.'),
  ...operandShape(),
  get and() { return z.array(ChoiceRule).min(1).optional(); },
  get or() { return z.array(ChoiceRule).min(1).optional(); },
  get not() { return ChoiceRule.optional(); },
  next: StateName.optional().describe('The state to go to when this (top-level) rule matches.'),
}).meta({ title: 'ChoiceRule' }) as z.ZodType<ChoiceRule>;

/** The state types. */
export const STATE_TYPES = ['Task', 'Choice', 'Parallel', 'Map', 'Wait', 'Pass', 'Succeed', 'Fail'] as const;
export type StateType = (typeof STATE_TYPES)[number];

const base = {
  comment: z.string().optional().describe('A note for people reading the spec.'),
};
const io = {
  inputPath: NullablePath.optional().describe('The part of the input the state works on; `$` when omitted, null for `{}`.'),
  outputPath: NullablePath.optional().describe('The part of the state\'s output passed on; `$` when omitted, null for `{}`.'),
};
const transition = {
  next: StateName.optional().describe('The state to go to next. Exactly one of next and end.'),
  end: z.boolean().optional().describe('True: the run (or branch) ends here. Exactly one of next and end.'),
};
const result = {
  resultPath: z.string().nullable().optional().describe(
    'Where the result goes in the input (a reference path such as `$.sum`); `$` (replace the input) when omitted, null to discard the result.',
  ),
  parameters: PayloadTemplate.optional().describe('The payload the state works on, built from the input: keys ending in `.$` take a path\'s value.'),
};
const errorHandling = {
  resultSelector: PayloadTemplate.optional().describe('A template applied to the raw result before resultPath, as parameters.'),
  retry: z.array(Retrier).optional().describe('Retriers, tried in order on an error.'),
  catch: z.array(Catcher).optional().describe('Catchers, tried in order on an error that retries did not clear.'),
};

/** A states map with its first state: the top level of a spec, a Parallel branch, a Map item processor. */
export interface StateMachine {
  startAt: string;
  states: Record<string, State>;
}

/** A nested state machine: a Parallel branch, a Map item processor. Its names are its own scope. */
export const StateMachine: z.ZodType<StateMachine> = z.strictObject({
  startAt: StateName.describe('The first state.'),
  get states() { return z.record(z.string(), State); },
}).meta({ title: 'StateMachine' }) as z.ZodType<StateMachine>;

/** Calls a function (through the gateway) or runs a nested workflow, and waits for its answer. */
export const TaskState = z.strictObject({
  type: z.literal('Task'),
  ...base, ...io, ...transition, ...result, ...errorHandling,
  function: z.string().optional().describe('The Function (in the run\'s namespace) to call. Exactly one of function and workflow.'),
  workflow: z.string().optional().describe('The Workflow (in the run\'s namespace) to run as a child run. Exactly one of function and workflow.'),
  timeoutSeconds: bounded(1).optional().describe('How long one attempt may take before it fails with States.Timeout.'),
}).meta({ title: 'TaskState' });
export type TaskState = z.infer<typeof TaskState>;

/** Goes to the next state of the first rule that matches, or to default. */
export const ChoiceState = z.strictObject({
  type: z.literal('Choice'),
  ...base, ...io,
  choices: z.array(ChoiceRule).describe('The rules, tried in order; each has next.'),
  default: StateName.optional().describe('Where to go when no rule matches; without it that is the error States.NoChoiceMatched.'),
}).meta({ title: 'ChoiceState' });
export type ChoiceState = z.infer<typeof ChoiceState>;

/** Runs its branches at once on the same input; its result is the array of their outputs. */
export const ParallelState = z.strictObject({
  type: z.literal('Parallel'),
  ...base, ...io, ...transition, ...result, ...errorHandling,
  branches: z.array(StateMachine).describe('The branches, 1 to 256.'),
}).meta({ title: 'ParallelState' });
export type ParallelState = z.infer<typeof ParallelState>;

/** Runs its item processor once per item of an array; its result is the array of their outputs, in order. */
export const MapState = z.strictObject({
  type: z.literal('Map'),
  ...base, ...io, ...transition, ...result, ...errorHandling,
  itemsPath: z.string().optional().describe('The array to iterate, in the input; `$` when omitted.'),
  itemProcessor: StateMachine.describe('The states run for each item.'),
  maxConcurrency: bounded(1).optional().describe('How many items run at once; 40 when omitted, at most 256.'),
}).meta({ title: 'MapState' });
export type MapState = z.infer<typeof MapState>;

/** Waits a number of seconds or until a time, then goes on with its input. */
export const WaitState = z.strictObject({
  type: z.literal('Wait'),
  ...base, ...io, ...transition,
  seconds: bounded(0).optional().describe('How long to wait. Exactly one of seconds, timestamp, secondsPath and timestampPath.'),
  timestamp: z.string().optional().describe('Until when to wait (RFC 3339).'),
  secondsPath: z.string().optional().describe('A path to the number of seconds in the input.'),
  timestampPath: z.string().optional().describe('A path to the timestamp in the input.'),
}).meta({ title: 'WaitState' });
export type WaitState = z.infer<typeof WaitState>;

/** Passes its input (or result, or parameters) on. */
export const PassState = z.strictObject({
  type: z.literal('Pass'),
  ...base, ...io, ...transition, ...result,
  result: z.json().optional().describe('The result (any JSON), put at resultPath; the effective input when omitted.'),
}).meta({ title: 'PassState' });
export type PassState = z.infer<typeof PassState>;

/** Ends the run (or branch) successfully with its input. */
export const SucceedState = z.strictObject({
  type: z.literal('Succeed'),
  ...base, ...io,
}).meta({ title: 'SucceedState' });
export type SucceedState = z.infer<typeof SucceedState>;

/** Ends the run (or branch) with an error. */
export const FailState = z.strictObject({
  type: z.literal('Fail'),
  ...base,
  error: z.string().optional().describe('The error name, which a catcher of an enclosing Parallel or Map can match.'),
  cause: z.string().optional().describe('A description of the error.'),
}).meta({ title: 'FailState' });
export type FailState = z.infer<typeof FailState>;

/** One state, by its type. */
export const State = z.discriminatedUnion('type', [TaskState, ChoiceState, ParallelState, MapState, WaitState, PassState, SucceedState, FailState], {
  error: (iss) => {
    const t = (iss.input as { type?: unknown } | undefined)?.type;
    if (iss.code !== 'invalid_union') return undefined;
    return t === undefined
      ? `Required value: supported values: ${STATE_TYPES.map((s) => `"${s}"`).join(', ')}`
      : `Unsupported value: ${JSON.stringify(t)}: supported values: ${STATE_TYPES.map((s) => `"${s}"`).join(', ')}`;
  },
}).meta({ title: 'State' });
/** One state, by its type (written out because the schema is recursive through branches and item processors). */
export type State = TaskState | ChoiceState | ParallelState | MapState | WaitState | PassState | SucceedState | FailState;

/** What `spec` of a Workflow holds: the states, where to start, and how long a run may take. */
export const WorkflowSpecFields = z.strictObject({
  comment: z.string().optional().describe('A note for people reading the spec.'),
  startAt: StateName.describe('The first state.'),
  timeoutSeconds: bounded(1).optional().describe('How long a whole run may take before it fails with States.Timeout.'),
  states: z.record(z.string(), State).describe('The states, by name.'),
});

/** The fields of a Workflow spec; WorkflowSpec (workflow.ts) is the same type, checked whole. */
export type WorkflowSpecFields = z.infer<typeof WorkflowSpecFields>;
