/**
 * A Choice state's rules, as Step Functions evaluates them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html): the first top-level
 * rule that matches gives the next state. Comparisons are typed: a numeric one is false unless
 * the value is a number, a string one unless it is a string, a boolean one unless a boolean, a
 * timestamp one unless an RFC 3339 string. A variable that matches nothing is "not present"
 * (isPresent is false) and any other test of it is the error States.Runtime.
 */
import { StatesError, StatesErrors } from './errors';
import { COMPARISON_OPERATORS, type ComparisonOperator } from './operators';
import { readPath } from './jsonpath';
import type { ChoiceRule, JsonValue } from './schema';
import { parseTimestamp } from './timestamp';

/**
 * The next state of the first rule that matches `input`, or undefined when none does (the state
 * then goes to its default, or fails with States.NoChoiceMatched). Throws what evaluateRule throws.
 */
export function evaluateChoice(rules: readonly ChoiceRule[], input: JsonValue): string | undefined {
  for (const rule of rules) if (evaluateRule(rule, input)) return rule.next;
  return undefined;
}

/**
 * Whether `rule` matches `input`: `and` all of its rules, `or` any (both stop at the first that
 * decides), `not` the opposite, otherwise its one comparison of `variable`. Throws StatesError
 * States.Runtime when the variable matches nothing (for any test but isPresent), when a `...Path`
 * operand matches nothing, or when the rule has no comparison.
 */
export function evaluateRule(rule: ChoiceRule, input: JsonValue): boolean {
  if (rule.and) return rule.and.every((r) => evaluateRule(r, input));
  if (rule.or) return rule.or.some((r) => evaluateRule(r, input));
  if (rule.not) return !evaluateRule(rule.not, input);
  const op = (COMPARISON_OPERATORS as readonly string[]).find((k) => (rule as Record<string, unknown>)[k] !== undefined) as ComparisonOperator | undefined;
  if (op === undefined || rule.variable === undefined) {
    throw new StatesError(StatesErrors.Runtime, 'a Choice rule has no comparison (give variable and one operator, or and, or, not)');
  }
  const found = readJson(input, rule.variable);
  if (op === 'isPresent') return (found !== undefined) === rule.isPresent;
  if (found === undefined) {
    throw new StatesError(StatesErrors.Runtime, `Choice rule: variable ${JSON.stringify(rule.variable)} matches nothing in the input (test it with isPresent first)`);
  }
  const value = found.value;
  let operand = (rule as Record<string, unknown>)[op];
  let base: string = op;
  if (op.endsWith('Path')) {
    base = op.slice(0, -'Path'.length);
    const other = readJson(input, operand as string);
    if (other === undefined) {
      throw new StatesError(StatesErrors.Runtime, `Choice rule: ${op} ${JSON.stringify(operand)} matches nothing in the input`);
    }
    operand = other.value;
  }
  return compare(base, value, operand);
}


/** One comparison of `value` with the rule's `operand` (a value, or what a `...Path` operand read). */
function compare(op: string, value: JsonValue, operand: unknown): boolean {
  switch (op) {
    case 'isNull': return (value === null) === operand;
    case 'isNumeric': return (typeof value === 'number') === operand;
    case 'isString': return (typeof value === 'string') === operand;
    case 'isBoolean': return (typeof value === 'boolean') === operand;
    case 'isTimestamp': return (typeof value === 'string' && parseTimestamp(value) !== undefined) === operand;
    case 'booleanEquals': return typeof value === 'boolean' && typeof operand === 'boolean' && value === operand;
    case 'stringMatches': return typeof value === 'string' && typeof operand === 'string' && wildcard(operand).test(value);
    default: break;
  }
  if (op.startsWith('numeric')) {
    if (typeof value !== 'number' || typeof operand !== 'number') return false;
    return order(op.slice('numeric'.length), value, operand);
  }
  if (op.startsWith('string')) {
    if (typeof value !== 'string' || typeof operand !== 'string') return false;
    return order(op.slice('string'.length), value, operand);
  }
  if (op.startsWith('timestamp')) {
    const a = typeof value === 'string' ? parseTimestamp(value) : undefined;
    const b = typeof operand === 'string' ? parseTimestamp(operand) : undefined;
    if (a === undefined || b === undefined) return false;
    return order(op.slice('timestamp'.length), a, b);
  }
  /* c8 ignore next */
  throw new StatesError(StatesErrors.Runtime, `Choice rule: unknown comparison ${op}`);
}

function order<T extends number | string>(rel: string, a: T, b: T): boolean {
  switch (rel) {
    case 'Equals': return a === b;
    case 'LessThan': return a < b;
    case 'GreaterThan': return a > b;
    case 'LessThanEquals': return a <= b;
    case 'GreaterThanEquals': return a >= b;
    /* c8 ignore next */
    default: throw new StatesError(StatesErrors.Runtime, `Choice rule: unknown comparison ${rel}`);
  }
}

/**
 * The regular expression of a stringMatches pattern: `*` matches any run of characters (none
 * too), `\*` a literal star and `\\` a literal backslash; everything else matches itself.
 */
export function wildcard(pattern: string): RegExp {
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      src += `\\${pattern[++i]}`;
    } else if (c === '*') {
      src += '[\\s\\S]*';
    } else {
      src += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${src}$`);
}

/** readPath, typed for JSON values. */
function readJson(root: JsonValue, path: string): { value: JsonValue } | undefined {
  return readPath(root, path) as { value: JsonValue } | undefined;
}
