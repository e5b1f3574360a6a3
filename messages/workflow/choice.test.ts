import { evaluateChoice, evaluateRule, wildcard } from './choice';
import { StatesError, StatesErrors } from './errors';
import type { ChoiceRule, JsonValue } from './schema';

const input: JsonValue = Object.freeze({
  n: 5, m: 7, zero: 0, s: 'beta', t: 'alpha', b: true, nil: null,
  when: '2026-01-02T15:04:05Z', later: '2026-01-02T16:04:05+01:00', bad: '2026-13-01T00:00:00Z',
  file: 'report.csv', star: 'a*b', obj: { k: 1 }, list: [1, 2],
});

function thrown(f: () => unknown): StatesError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatesError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('Choice comparisons', () => {
  const cases: [ChoiceRule, boolean][] = [
    // numeric: false unless the value is a number
    [{ variable: '$.n', numericEquals: 5 }, true],
    [{ variable: '$.n', numericEquals: 6 }, false],
    [{ variable: '$.n', numericLessThan: 6 }, true],
    [{ variable: '$.n', numericLessThan: 5 }, false],
    [{ variable: '$.n', numericGreaterThan: 4 }, true],
    [{ variable: '$.n', numericGreaterThan: 5 }, false],
    [{ variable: '$.n', numericLessThanEquals: 5 }, true],
    [{ variable: '$.n', numericLessThanEquals: 4 }, false],
    [{ variable: '$.n', numericGreaterThanEquals: 5 }, true],
    [{ variable: '$.n', numericGreaterThanEquals: 6 }, false],
    [{ variable: '$.zero', numericEquals: 0 }, true],
    [{ variable: '$.s', numericEquals: 5 }, false],
    [{ variable: '$.nil', numericLessThan: 1 }, false],
    [{ variable: '$.n', numericLessThanPath: '$.m' }, true],
    [{ variable: '$.n', numericEqualsPath: '$.s' }, false],
    [{ variable: '$.m', numericGreaterThanEqualsPath: '$.n' }, true],
    [{ variable: '$.n', numericGreaterThanPath: '$.m' }, false],
    [{ variable: '$.n', numericLessThanEqualsPath: '$.n' }, true],
    // string: false unless the value is a string; ordered by code unit
    [{ variable: '$.s', stringEquals: 'beta' }, true],
    [{ variable: '$.s', stringEquals: 'Beta' }, false],
    [{ variable: '$.n', stringEquals: '5' }, false],
    [{ variable: '$.t', stringLessThan: 'beta' }, true],
    [{ variable: '$.s', stringGreaterThan: 'alpha' }, true],
    [{ variable: '$.s', stringLessThanEquals: 'beta' }, true],
    [{ variable: '$.s', stringGreaterThanEquals: 'gamma' }, false],
    [{ variable: '$.t', stringLessThanPath: '$.s' }, true],
    [{ variable: '$.s', stringEqualsPath: '$.s' }, true],
    [{ variable: '$.s', stringGreaterThanPath: '$.n' }, false],
    [{ variable: '$.s', stringLessThanEqualsPath: '$.t' }, false],
    [{ variable: '$.s', stringGreaterThanEqualsPath: '$.t' }, true],
    // boolean
    [{ variable: '$.b', booleanEquals: true }, true],
    [{ variable: '$.b', booleanEquals: false }, false],
    [{ variable: '$.s', booleanEquals: true }, false],
    [{ variable: '$.b', booleanEqualsPath: '$.b' }, true],
    // timestamps: RFC 3339, compared as instants whatever their zone
    [{ variable: '$.when', timestampEquals: '2026-01-02T15:04:05Z' }, true],
    [{ variable: '$.later', timestampEquals: '2026-01-02T15:04:05Z' }, true],
    [{ variable: '$.when', timestampEquals: '2026-01-02T15:04:05.000+00:00' }, true],
    [{ variable: '$.when', timestampLessThan: '2026-01-02T15:04:06Z' }, true],
    [{ variable: '$.when', timestampGreaterThan: '2026-01-02T15:04:05Z' }, false],
    [{ variable: '$.when', timestampLessThanEquals: '2026-01-02T15:04:05Z' }, true],
    [{ variable: '$.when', timestampGreaterThanEquals: '2026-01-03T00:00:00Z' }, false],
    [{ variable: '$.s', timestampEquals: '2026-01-02T15:04:05Z' }, false],
    [{ variable: '$.bad', timestampLessThan: '2027-01-01T00:00:00Z' }, false],
    [{ variable: '$.n', timestampLessThan: '2027-01-01T00:00:00Z' }, false],
    [{ variable: '$.when', timestampEqualsPath: '$.later' }, true],
    [{ variable: '$.when', timestampLessThanPath: '$.s' }, false],
    [{ variable: '$.when', timestampGreaterThanPath: '$.later' }, false],
    [{ variable: '$.when', timestampLessThanEqualsPath: '$.later' }, true],
    [{ variable: '$.when', timestampGreaterThanEqualsPath: '$.later' }, true],
    // stringMatches: * is any run, \* a literal star
    [{ variable: '$.file', stringMatches: '*.csv' }, true],
    [{ variable: '$.file', stringMatches: 'report*' }, true],
    [{ variable: '$.file', stringMatches: 'r*t.c*v' }, true],
    [{ variable: '$.file', stringMatches: '*.txt' }, false],
    [{ variable: '$.file', stringMatches: 'report.csv' }, true],
    [{ variable: '$.file', stringMatches: 'report?csv' }, false],
    [{ variable: '$.file', stringMatches: 'REPORT.csv' }, false],
    [{ variable: '$.star', stringMatches: 'a\\*b' }, true],
    [{ variable: '$.file', stringMatches: 'a\\*b' }, false],
    [{ variable: '$.n', stringMatches: '*' }, false],
    // type tests
    [{ variable: '$.n', isPresent: true }, true],
    [{ variable: '$.nope', isPresent: true }, false],
    [{ variable: '$.nope', isPresent: false }, true],
    [{ variable: '$.nil', isPresent: true }, true],
    [{ variable: '$.nil', isNull: true }, true],
    [{ variable: '$.n', isNull: true }, false],
    [{ variable: '$.n', isNull: false }, true],
    [{ variable: '$.n', isNumeric: true }, true],
    [{ variable: '$.s', isNumeric: true }, false],
    [{ variable: '$.s', isString: true }, true],
    [{ variable: '$.obj', isString: false }, true],
    [{ variable: '$.b', isBoolean: true }, true],
    [{ variable: '$.nil', isBoolean: true }, false],
    [{ variable: '$.when', isTimestamp: true }, true],
    [{ variable: '$.bad', isTimestamp: true }, false],
    [{ variable: '$.s', isTimestamp: false }, true],
    // a variable that matches several values is their array
    [{ variable: '$.list[*]', isPresent: true }, true],
    [{ variable: '$.list[*]', isNumeric: true }, false],
    [{ variable: '$', isPresent: true }, true],
  ];
  it.each(cases)('%j is %s', (rule, want) => {
    expect(evaluateRule(rule, input)).toBe(want);
  });
});

describe('and, or, not', () => {
  const yes: ChoiceRule = { variable: '$.n', numericEquals: 5 };
  const no: ChoiceRule = { variable: '$.n', numericEquals: 6 };
  const cases: [string, ChoiceRule, boolean][] = [
    ['and of two true', { and: [yes, yes] }, true],
    ['and with a false', { and: [yes, no] }, false],
    ['or with a true', { or: [no, yes] }, true],
    ['or of two false', { or: [no, no] }, false],
    ['not of false', { not: no }, true],
    ['not of true', { not: yes }, false],
    ['nested', { and: [{ or: [no, { not: no }] }, { not: { and: [yes, no] } }] }, true],
    ['a guard before a missing variable (and stops at the first false)', { and: [{ variable: '$.nope', isPresent: true }, { variable: '$.nope', numericEquals: 1 }] }, false],
    ['or stops at the first true', { or: [yes, { variable: '$.nope', numericEquals: 1 }] }, true],
  ];
  it.each(cases)('%s', (_what, rule, want) => {
    expect(evaluateRule(rule, input)).toBe(want);
  });
});

describe('a path that matches nothing', () => {
  const cases: [string, ChoiceRule, string][] = [
    ['a comparison of a missing variable', { variable: '$.nope', numericEquals: 1 },
      'Choice rule: variable "$.nope" matches nothing in the input (test it with isPresent first)'],
    ['a type test of a missing variable', { variable: '$.nope', isNull: false },
      'Choice rule: variable "$.nope" matches nothing in the input (test it with isPresent first)'],
    ['a missing ...Path operand', { variable: '$.n', numericEqualsPath: '$.nope' }, 'Choice rule: numericEqualsPath "$.nope" matches nothing in the input'],
    ['a rule with no comparison', { variable: '$.n' }, 'a Choice rule has no comparison (give variable and one operator, or and, or, not)'],
    ['inside not', { not: { variable: '$.n.deeper', stringEquals: 'x' } },
      'Choice rule: variable "$.n.deeper" matches nothing in the input (test it with isPresent first)'],
  ];
  it.each(cases)('is States.Runtime: %s', (_what, rule, message) => {
    const e = thrown(() => evaluateRule(rule, input));
    expect([e.error, e.message]).toEqual([StatesErrors.Runtime, message]);
  });
});

describe('evaluateChoice', () => {
  const rules: ChoiceRule[] = [
    { variable: '$.kind', stringEquals: 'refund', next: 'Refund' },
    { and: [{ variable: '$.amount', numericGreaterThan: 100 }, { variable: '$.vip', booleanEquals: true }], next: 'Fast' },
    { variable: '$.amount', numericGreaterThan: 100, next: 'Review' },
  ];
  const cases: [JsonValue, string | undefined][] = [
    [{ kind: 'refund', amount: 500, vip: true }, 'Refund'],
    [{ kind: 'sale', amount: 500, vip: true }, 'Fast'],
    [{ kind: 'sale', amount: 500, vip: false }, 'Review'],
    [{ kind: 'sale', amount: 5, vip: false }, undefined],
  ];
  it.each(cases)('%j goes to %s (the first rule that matches)', (value, want) => {
    expect(evaluateChoice(rules, value)).toBe(want);
  });

  it('fails with States.Runtime when a rule before the match reads a missing variable', () => {
    expect(thrown(() => evaluateChoice(rules, { amount: 1 })).error).toBe(StatesErrors.Runtime);
  });
});

describe('wildcard', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['a*', 'a', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['back\\\\slash', 'back\\slash', true],
    ['a\\b', 'a\\b', true],
    ['*\n*', 'a\nb', true],
  ];
  it.each(cases)('%j matches %j: %s', (pattern, s, want) => {
    expect(wildcard(pattern).test(s)).toBe(want);
  });
});
