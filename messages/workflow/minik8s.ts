/**
 * MiniK8s's workflow language, compiled to a Workflow spec. A program is one step per line:
 *
 *     move_right
 *     convert_num
 *     IF GREATER 77851361 THEN add ELSE subtract
 *     FOR 3 TIMES DO add
 *     convert_char
 *
 * A bare name calls that function with the current value, and its answer becomes the current
 * value. `IF <op> <value> THEN f [ELSE g]` calls f when the current value compares true with
 * <value>, else g (or nothing). The ops are GREATER, LESS, EQUALS and NEQ, and they read as
 * English: `IF GREATER n` is true when the current value is greater than n. MiniK8s compared
 * the other way round, and as strings; here two numbers compare as numbers, two strings as
 * strings, and a number never equals a string. `FOR n TIMES DO f` calls f n times, each call on
 * the previous one's answer (it compiles to n Task states, so every call is its own step in the
 * run's history). Blank lines and lines starting with `#` are skipped; keywords may be in any case.
 *
 * MiniK8s's names hold `_`, which a DNS-1123 name cannot: `move_right` calls the Function
 * `move-right`. Pure; no I/O.
 */
import type { ChoiceRule, State } from './schema';
import type { WorkflowSpec } from './workflow';

/** The most calls one FOR line may make (each is a state, and a spec holds at most MAX_STATES). */
export const MAX_FOR_TIMES = 100;

/** A program that cannot be compiled; the message names the line and what is wrong with it. */
export class WorkflowTextError extends Error {
  /** The 1-based line, when one line is at fault. */
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'WorkflowTextError';
    this.line = line;
  }
}

const COMPARISONS = { GREATER: 'GreaterThan', LESS: 'LessThan', EQUALS: 'Equals', NEQ: 'Equals' } as const;
type Op = keyof typeof COMPARISONS;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One parsed line. */
type Step =
  | { kind: 'call'; line: number; fn: string; word: string }
  | { kind: 'if'; line: number; op: Op; value: number | string; literal: string; then: { fn: string; word: string }; else?: { fn: string; word: string } }
  | { kind: 'for'; line: number; times: number; fn: string; word: string };

/** MiniK8s's name as a Function name: `_` reads as `-`; anything else that is not DNS-1123 is an error. */
function functionName(word: string, line: number): string {
  const name = word.replace(/_/g, '-');
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new WorkflowTextError(`"${word}" is not a function name: it must be lower case letters, digits, "-" and "_", `
      + 'start and end with a letter or digit, and be at most 63 characters', line);
  }
  return name;
}

/** A comparison value: a JSON number, a quoted string, or a bare word (a string). */
function comparisonValue(literal: string): number | string {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(literal)) return Number(literal);
  if (literal.length >= 2 && literal.startsWith('"') && literal.endsWith('"')) {
    try {
      return JSON.parse(literal) as string;
    } catch {
      return literal.slice(1, -1);
    }
  }
  return literal;
}

/** Splits a line into words, keeping a quoted string (which may hold spaces) as one word. */
function words(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

function parseLine(text: string, line: number): Step {
  const w = words(text);
  const kw = (i: number): string => (w[i] ?? '').toUpperCase();
  if (kw(0) === 'IF') {
    const op = kw(1);
    if (!(op in COMPARISONS)) throw new WorkflowTextError(`IF needs a comparison: GREATER, LESS, EQUALS or NEQ${w[1] ? `, not "${w[1]}"` : ''}`, line);
    if (w[2] === undefined) throw new WorkflowTextError(`IF ${op} needs a value to compare with`, line);
    if (kw(3) !== 'THEN' || w[4] === undefined) throw new WorkflowTextError(`expected "IF ${op} ${w[2]} THEN <function> [ELSE <function>]"`, line);
    const hasElse = w.length > 5;
    if (hasElse && (kw(5) !== 'ELSE' || w[6] === undefined || w.length > 7)) {
      throw new WorkflowTextError(`expected "IF ${op} ${w[2]} THEN ${w[4]} ELSE <function>" and nothing after it`, line);
    }
    return {
      kind: 'if', line, op: op as Op, value: comparisonValue(w[2]), literal: w[2],
      then: { fn: functionName(w[4], line), word: w[4] },
      ...(hasElse ? { else: { fn: functionName(w[6]!, line), word: w[6]! } } : {}),
    };
  }
  if (kw(0) === 'FOR') {
    if (kw(2) !== 'TIMES' || kw(3) !== 'DO' || w[4] === undefined || w.length > 5) throw new WorkflowTextError('expected "FOR <n> TIMES DO <function>"', line);
    const times = /^\d+$/.test(w[1]!) ? Number(w[1]) : NaN;
    if (!Number.isInteger(times) || times < 1 || times > MAX_FOR_TIMES) {
      throw new WorkflowTextError(`FOR needs a whole number of times from 1 to ${MAX_FOR_TIMES}, not "${w[1]}"`, line);
    }
    return { kind: 'for', line, times, fn: functionName(w[4], line), word: w[4] };
  }
  if (w.length !== 1) throw new WorkflowTextError(`expected a function name, IF or FOR, not "${text}"`, line);
  return { kind: 'call', line, fn: functionName(w[0]!, line), word: w[0]! };
}

/** A comparison value as a state name shows it: long ones cut, so that names stay under 80 characters. */
function short(literal: string): string {
  return literal.length <= 24 ? literal : `${literal.slice(0, 23)}…`;
}

/** The rule that is true when the current value (`$`) compares true with `value`, by type. */
function comparison(op: Op, value: number | string): ChoiceRule {
  const suffix = COMPARISONS[op];
  const typed: ChoiceRule = typeof value === 'number'
    ? { variable: '$', [`numeric${suffix}`]: value }
    : { variable: '$', [`string${suffix}`]: value };
  return op === 'NEQ' ? { not: typed } : typed;
}

/**
 * Compiles a MiniK8s program to a Workflow spec: one Task per call (named after the function and
 * its line, `convert_num (line 2)`), a Choice per IF, n Tasks per FOR. Throws WorkflowTextError
 * naming the line of the first problem, or for a program with no steps.
 */
export function compileWorkflowText(text: string): WorkflowSpec {
  const steps: Step[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    steps.push(parseLine(line, i + 1));
  });
  if (steps.length === 0) throw new WorkflowTextError('the workflow has no steps: write one function name, IF or FOR per line');

  const states: Record<string, State> = {};
  // Each step's first state name, so that the one before can point at it.
  const entry = (s: Step): string => (s.kind === 'call' ? `${s.word} (line ${s.line})`
    : s.kind === 'if' ? `IF ${s.op} ${short(s.literal)} (line ${s.line})`
      : `${s.word} (line ${s.line}, 1 of ${s.times})`);
  const next = (i: number): { next: string } | { end: true } => (i + 1 < steps.length ? { next: entry(steps[i + 1]!) } : { end: true });

  steps.forEach((s, i) => {
    if (s.kind === 'call') {
      states[entry(s)] = { type: 'Task', function: s.fn, ...next(i) };
    } else if (s.kind === 'for') {
      for (let k = 1; k <= s.times; k++) {
        const to = k < s.times ? { next: `${s.word} (line ${s.line}, ${k + 1} of ${s.times})` } : next(i);
        states[`${s.word} (line ${s.line}, ${k} of ${s.times})`] = { type: 'Task', function: s.fn, ...to };
      }
    } else {
      const thenName = `THEN ${s.then.word} (line ${s.line})`;
      const elseName = s.else ? `ELSE ${s.else.word} (line ${s.line})` : undefined;
      // With no ELSE and nothing after the IF, a false comparison ends the run with the value as it is.
      const passName = `IF ${s.op} ${short(s.literal)} is false (line ${s.line})`;
      const otherwise = elseName ?? ('next' in next(i) ? (next(i) as { next: string }).next : passName);
      states[entry(s)] = { type: 'Choice', choices: [{ ...comparison(s.op, s.value), next: thenName }], default: otherwise };
      states[thenName] = { type: 'Task', function: s.then.fn, ...next(i) };
      if (s.else && elseName) states[elseName] = { type: 'Task', function: s.else.fn, ...next(i) };
      else if (otherwise === passName) states[passName] = { type: 'Pass', end: true };
    }
  });
  return { comment: 'Compiled from the MiniK8s workflow language', startAt: entry(steps[0]!), states };
}
