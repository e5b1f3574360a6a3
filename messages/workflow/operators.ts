/** The operators of a Choice rule (https://states-language.net/spec.html#choice-state), by the type of value they compare. */

/** The comparisons of a Choice rule whose value is a number. */
export const NUMERIC_COMPARISONS = ['numericEquals', 'numericLessThan', 'numericGreaterThan', 'numericLessThanEquals', 'numericGreaterThanEquals'] as const;
/** The comparisons of a Choice rule whose value is a string. */
export const STRING_COMPARISONS = [
  'stringEquals', 'stringLessThan', 'stringGreaterThan', 'stringLessThanEquals', 'stringGreaterThanEquals', 'stringMatches',
] as const;
/** The comparisons of a Choice rule whose value is a boolean. */
export const BOOLEAN_COMPARISONS = ['booleanEquals'] as const;
/** The comparisons of a Choice rule whose value is an RFC 3339 timestamp. */
export const TIMESTAMP_COMPARISONS = [
  'timestampEquals', 'timestampLessThan', 'timestampGreaterThan', 'timestampLessThanEquals', 'timestampGreaterThanEquals',
] as const;
/** The type tests of a Choice rule (their value is a boolean: true tests the type, false its absence). */
export const TYPE_TESTS = ['isPresent', 'isNull', 'isNumeric', 'isString', 'isBoolean', 'isTimestamp'] as const;
/** The comparisons that take a path to the other operand instead of a value (all but stringMatches and the type tests). */
export const PATH_COMPARISONS = [
  ...NUMERIC_COMPARISONS.map((c) => `${c}Path` as const),
  ...STRING_COMPARISONS.filter((c) => c !== 'stringMatches').map((c) => `${c}Path` as const),
  ...BOOLEAN_COMPARISONS.map((c) => `${c}Path` as const),
  ...TIMESTAMP_COMPARISONS.map((c) => `${c}Path` as const),
] as const;

/** Every comparison operator a rule may hold (exactly one, with `variable`). */
export const COMPARISON_OPERATORS = [
  ...NUMERIC_COMPARISONS, ...STRING_COMPARISONS, ...BOOLEAN_COMPARISONS, ...TIMESTAMP_COMPARISONS, ...TYPE_TESTS, ...PATH_COMPARISONS,
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
