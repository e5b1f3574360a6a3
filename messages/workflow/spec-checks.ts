/**
 * The checks of a Workflow spec that span fields: names that must exist, exactly one of next and
 * end, reachability, loops with no way out, paths that must parse, limits. The schema runs them
 * as its refinement (so they run once every field has the right shape); validate.ts words them
 * for people. Rules follow the Amazon States Language (https://states-language.net/spec.html).
 */
import { dns1123SubdomainError } from '../names';
import { jsonPathError, referencePathError } from './jsonpath';
import { MAX_BRANCHES, MAX_MAP_CONCURRENCY, MAX_STATE_NAME_LENGTH, MAX_STATES } from './limits';
import { COMPARISON_OPERATORS, PATH_COMPARISONS, TIMESTAMP_COMPARISONS } from './operators';
import { loopsWithoutExit, unreachableStates } from './graph';
import type { ChoiceRule, PayloadTemplate, State, StateMachine, WorkflowSpecFields as WorkflowSpec } from './schema';
import { parseTimestamp } from './timestamp';

/** One problem of a spec: where (below `spec`) and what. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

type Path = (string | number)[];

/** Every cross-field problem of a spec whose fields have the right shape; empty when it is valid. */
export function workflowSpecErrors(spec: WorkflowSpec): SpecIssue[] {
  const out: SpecIssue[] = [];
  checkMachine(spec, [], out);
  return out;
}

/** Checks one states map (the top level, a branch, an item processor): names are scoped to it. */
function checkMachine(machine: StateMachine, at: Path, out: SpecIssue[]): void {
  const states = machine.states;
  const names = Object.keys(states);
  const add = (path: Path, message: string) => out.push({ path: [...at, ...path], message });
  if (names.length === 0) add(['states'], 'Required value: at least one state');
  if (names.length > MAX_STATES) add(['states'], `Too many: ${names.length}: must have at most ${MAX_STATES} states`);
  const exists = (n: string) => Object.prototype.hasOwnProperty.call(states, n);
  const target = (path: Path, n: string) => {
    if (!exists(n)) add(path, `no state named ${JSON.stringify(n)}${suggest(n, names)}`);
  };
  target(['startAt'], machine.startAt);
  for (const name of names) {
    const s = states[name];
    const p: Path = ['states', name];
    if (name.length > MAX_STATE_NAME_LENGTH) add(p, `Invalid value: state name is ${name.length} characters: must be at most ${MAX_STATE_NAME_LENGTH}`);
    // A run's history names each execution of a state by a path built with these characters (`Fan#1/0/Step#1`, `Fan#1@2`).
    if (/[/#@]/.test(name)) add(p, `Invalid value: ${JSON.stringify(name)}: a state name may not contain "/", "#" or "@"`);
    checkState(s, p, add, target);
    if (s.type === 'Parallel') {
      if (s.branches.length === 0 || s.branches.length > MAX_BRANCHES) {
        add([...p, 'branches'], `Invalid value: ${s.branches.length} branches: must have between 1 and ${MAX_BRANCHES}, inclusive`);
      }
      s.branches.forEach((b, i) => checkMachine(b, [...at, ...p, 'branches', i], out));
    }
    if (s.type === 'Map') checkMachine(s.itemProcessor, [...at, ...p, 'itemProcessor'], out);
  }
  if (names.length > 0 && exists(machine.startAt)) {
    for (const n of unreachableStates(machine)) add(['states', n], `unreachable: no state leads to it from startAt ${JSON.stringify(machine.startAt)}`);
    for (const loop of loopsWithoutExit(machine)) add(['states'], `states ${loop.join(' -> ')} loop forever: no state leads out and none waits`);
  }
}

type Add = (path: Path, message: string) => void;

/** The checks of one state on its own, and that the states it names exist. */
function checkState(s: State, p: Path, add: Add, target: (path: Path, n: string) => void): void {
  if (s.type !== 'Choice' && s.type !== 'Succeed' && s.type !== 'Fail') {
    if (s.next !== undefined && s.end !== undefined) {
      add([...p, 'end'], 'Forbidden: may not be specified together with `next` (give exactly one of next and end: true)');
    } else if (s.next === undefined && s.end !== true) {
      add([...p, 'next'], s.end === false ? 'Required value: end is false: give next, or end: true' : 'Required value: give exactly one of next and end: true');
    }
    if (s.next !== undefined) target([...p, 'next'], s.next);
  }
  if (s.type !== 'Fail') {
    refPath([...p, 'inputPath'], s.inputPath, add);
    refPath([...p, 'outputPath'], s.outputPath, add);
  }
  if (s.type === 'Task' || s.type === 'Parallel' || s.type === 'Map' || s.type === 'Pass') {
    refPath([...p, 'resultPath'], s.resultPath, add);
    if (s.parameters !== undefined) checkTemplate(s.parameters, [...p, 'parameters'], add);
  }
  if (s.type === 'Task' || s.type === 'Parallel' || s.type === 'Map') {
    if (s.resultSelector !== undefined) checkTemplate(s.resultSelector, [...p, 'resultSelector'], add);
    allLast(s.retry ?? [], [...p, 'retry'], add);
    allLast(s.catch ?? [], [...p, 'catch'], add);
    (s.catch ?? []).forEach((c, i) => {
      target([...p, 'catch', i, 'next'], c.next);
      refPath([...p, 'catch', i, 'resultPath'], c.resultPath, add);
    });
  }
  switch (s.type) {
    case 'Task': {
      if ((s.function === undefined) === (s.workflow === undefined)) {
        add([...p, 'function'], s.function === undefined
          ? 'Required value: give exactly one of function and workflow'
          : 'Forbidden: may not be specified together with `workflow` (give exactly one of function and workflow)');
      }
      for (const f of ['function', 'workflow'] as const) {
        const v = s[f];
        const bad = v === undefined ? null : dns1123SubdomainError(v);
        if (bad) add([...p, f], `Invalid value: ${JSON.stringify(v)}: ${bad}`);
      }
      break;
    }
    case 'Choice': {
      if (s.choices.length === 0) add([...p, 'choices'], 'Required value: at least one rule');
      s.choices.forEach((r, i) => checkRule(r, [...p, 'choices', i], true, add, target));
      if (s.default !== undefined) target([...p, 'default'], s.default);
      break;
    }
    case 'Map': {
      refPath([...p, 'itemsPath'], s.itemsPath, add);
      if (s.maxConcurrency !== undefined && s.maxConcurrency > MAX_MAP_CONCURRENCY) {
        add([...p, 'maxConcurrency'], `Invalid value: ${s.maxConcurrency}: must be between 1 and ${MAX_MAP_CONCURRENCY}, inclusive`);
      }
      break;
    }
    case 'Wait': {
      const given = (['seconds', 'timestamp', 'secondsPath', 'timestampPath'] as const).filter((f) => s[f] !== undefined);
      if (given.length !== 1) {
        add([...p, given[1] ?? 'seconds'], given.length === 0
          ? 'Required value: give exactly one of seconds, timestamp, secondsPath and timestampPath'
          : `Forbidden: may not be specified together with \`${given[0]}\` (give exactly one of seconds, timestamp, secondsPath and timestampPath)`);
      }
      if (s.timestamp !== undefined && parseTimestamp(s.timestamp) === undefined) {
        add([...p, 'timestamp'], `Invalid value: ${JSON.stringify(s.timestamp)}: must be an RFC 3339 timestamp such as "2026-01-02T15:04:05Z"`);
      }
      refPath([...p, 'secondsPath'], s.secondsPath, add);
      refPath([...p, 'timestampPath'], s.timestampPath, add);
      break;
    }
    default:
      break;
  }
}

/**
 * States.ALL matches every error, so (as Step Functions requires) it stands alone in its
 * errorEquals and only in the last retrier or catcher: anything after it could never match.
 */
function allLast(handlers: readonly { errorEquals: string[] }[], p: Path, add: Add): void {
  handlers.forEach((h, i) => {
    if (!h.errorEquals.includes('States.ALL')) return;
    if (h.errorEquals.length > 1) add([...p, i, 'errorEquals'], 'Invalid value: "States.ALL" must be the only error of its errorEquals');
    else if (i < handlers.length - 1) add([...p, i, 'errorEquals'], `Invalid value: "States.ALL" may appear only in the last ${p[p.length - 1] === 'retry' ? 'retrier' : 'catcher'}`);
  });
}

/** A reference path field (undefined and null are fine: they mean `$` or `{}`). */
function refPath(p: Path, path: string | null | undefined, add: Add): void {
  if (path === undefined || path === null) return;
  const bad = referencePathError(path);
  if (bad) add(p, `Invalid value: ${JSON.stringify(path)}: not a reference path: ${bad}`);
}

/** A parameters or resultSelector template: every `.$` key holds a path that parses. */
function checkTemplate(t: unknown, p: Path, add: Add): void {
  if (Array.isArray(t)) {
    t.forEach((v, i) => checkTemplate(v, [...p, i], add));
    return;
  }
  if (t === null || typeof t !== 'object') return;
  for (const [k, v] of Object.entries(t as PayloadTemplate)) {
    if (!k.endsWith('.$')) {
      checkTemplate(v, [...p, k], add);
      continue;
    }
    if (typeof v !== 'string') {
      add([...p, k], `Invalid value: ${JSON.stringify(v)}: a key ending in ".$" takes a path (a string such as "$.a")`);
      continue;
    }
    if (/^States\.[A-Za-z]+\(/.test(v)) {
      add([...p, k], `Invalid value: ${JSON.stringify(v)}: intrinsic functions are not supported`);
      continue;
    }
    const bad = jsonPathError(v, { context: true });
    if (bad) add([...p, k], `Invalid value: ${JSON.stringify(v)}: not a JSONPath: ${bad}`);
  }
}

const OPERATORS: readonly string[] = COMPARISON_OPERATORS;
const TIMESTAMP_OPS: readonly string[] = TIMESTAMP_COMPARISONS;
const PATH_OPS: readonly string[] = PATH_COMPARISONS;

/** A Choice rule: a comparison, or and/or/not; `next` on top-level rules only. */
function checkRule(r: ChoiceRule, p: Path, top: boolean, add: Add, target: (path: Path, n: string) => void): void {
  const ops = Object.keys(r).filter((k) => OPERATORS.includes(k) && (r as Record<string, unknown>)[k] !== undefined);
  const logic = (['and', 'or', 'not'] as const).filter((k) => r[k] !== undefined);
  if (top && r.next === undefined) add([...p, 'next'], 'Required value: a top-level rule needs next');
  if (!top && r.next !== undefined) add([...p, 'next'], 'Forbidden: only a top-level rule has next');
  if (r.next !== undefined) target([...p, 'next'], r.next);
  if (logic.length > 0) {
    if (logic.length > 1) add([...p, logic[1]], `Forbidden: may not be specified together with \`${logic[0]}\``);
    if (r.variable !== undefined || ops.length > 0) {
      add([...p, r.variable !== undefined ? 'variable' : ops[0]], `Forbidden: a rule with \`${logic[0]}\` has no variable or comparison`);
    }
    if (r.and) r.and.forEach((c, i) => checkRule(c, [...p, 'and', i], false, add, target));
    if (r.or) r.or.forEach((c, i) => checkRule(c, [...p, 'or', i], false, add, target));
    if (r.not) checkRule(r.not, [...p, 'not'], false, add, target);
    return;
  }
  if (r.variable === undefined) {
    add([...p, 'variable'], 'Required value: a comparison needs variable (or give and, or, not)');
  } else {
    const bad = jsonPathError(r.variable);
    if (bad) add([...p, 'variable'], `Invalid value: ${JSON.stringify(r.variable)}: not a JSONPath: ${bad}`);
  }
  if (ops.length !== 1) {
    add([...p, ops[1] ?? 'variable'], ops.length === 0
      ? `Required value: give one comparison such as numericEquals or isPresent`
      : `Forbidden: may not be specified together with \`${ops[0]}\` (a rule has one comparison; combine rules with and/or)`);
  }
  for (const op of ops) {
    const v = (r as Record<string, unknown>)[op];
    if (TIMESTAMP_OPS.includes(op) && typeof v === 'string' && parseTimestamp(v) === undefined) {
      add([...p, op], `Invalid value: ${JSON.stringify(v)}: must be an RFC 3339 timestamp such as "2026-01-02T15:04:05Z"`);
    }
    if (PATH_OPS.includes(op) && typeof v === 'string') {
      const bad = jsonPathError(v);
      if (bad) add([...p, op], `Invalid value: ${JSON.stringify(v)}: not a JSONPath: ${bad}`);
    }
  }
}

/** ` (did you mean "Add"?)` when a name differs only in case, or by one edit between names of 3 or more characters. */
function suggest(name: string, names: string[]): string {
  const close = names.find((n) => n.toLowerCase() === name.toLowerCase() || (Math.max(n.length, name.length) >= 3 && editDistance(n, name) <= 1));
  return close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 1) return 2;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}
