/**
 * A state's data flow, as Step Functions' (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html):
 * input -> inputPath -> parameters -> (the work) -> resultSelector -> resultPath -> outputPath -> output.
 * Each step is a pure function that never mutates its arguments; a path that fails throws a
 * StatesError with Step Functions' error name.
 */
import type { JsonValue, PayloadTemplate } from './schema';

/** What `$$.` paths read: the run, the state, and in a Map the item. */
export interface ContextObject {
  Execution: { Id: string; Name?: string; StartTime?: string; Input?: JsonValue };
  State: { Name: string; EnteredTime: string; RetryCount?: number };
  Map?: { Item: { Index: number; Value: JsonValue } };
}

/** The value at `path` in `value` (a single value); throws States.Runtime when it matches nothing. */
export declare function selectPath(value: JsonValue, path: string): JsonValue;
/** The state's effective input: `$` (or undefined) the whole input, null `{}`; States.Runtime when the path matches nothing. */
export declare function applyInputPath(input: JsonValue, path: string | null | undefined): JsonValue;
/** Builds a payload from a template: keys ending `.$` take a path's value (`$$.` from the context); States.ParameterPathFailure when one matches nothing. */
export declare function applyParameters(template: PayloadTemplate, input: JsonValue, context?: ContextObject): JsonValue;
/** Builds the state's result from the raw result with a resultSelector template (as applyParameters). */
export declare function applyResultSelector(template: PayloadTemplate, result: JsonValue, context?: ContextObject): JsonValue;
/** Puts `result` at `path` in a copy of `input`: `$` replaces, null keeps the input; States.ResultPathMatchFailure when it cannot be set. */
export declare function applyResultPath(input: JsonValue, result: JsonValue, path: string | null | undefined): JsonValue;
/** The state's output: `$` (or undefined) all of it, null `{}`; States.Runtime when the path matches nothing. */
export declare function applyOutputPath(output: JsonValue, path: string | null | undefined): JsonValue;
