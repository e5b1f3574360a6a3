import { isValidation } from '../errors';
import { MAX_BRANCHES, MAX_STATES } from './limits';
import { parseWorkflowSpec, validateWorkflowSpec } from './validate';

type Spec = Record<string, unknown>;
const task = (next?: string, extra: Spec = {}): Spec => ({ type: 'Task', function: 'add', ...(next ? { next } : { end: true }), ...extra });
const one = (state: Spec): Spec => ({ startAt: 'A', states: { A: state } });
const two = (a: Spec): Spec => ({ startAt: 'A', states: { A: a, B: { type: 'Succeed' } } });

describe('validateWorkflowSpec', () => {
  it('accepts a spec using every state type', () => {
    const spec = {
      comment: 'all of it',
      startAt: 'Read',
      timeoutSeconds: 300,
      states: {
        Read: { type: 'Pass', result: { items: [1, 2] }, resultPath: '$.data', next: 'Each' },
        Each: {
          type: 'Map', itemsPath: '$.data.items', maxConcurrency: 4, resultPath: '$.sums', next: 'Both',
          itemProcessor: { startAt: 'Add', states: { Add: task(undefined, { parameters: { 'x.$': '$', 'i.$': '$$.Map.Item.Index' } }) } },
        },
        Both: {
          type: 'Parallel', next: 'Check', resultSelector: { 'first.$': '$[0]' },
          retry: [{ errorEquals: ['States.ALL'], intervalSeconds: 2, maxAttempts: 5, backoffRate: 1.5, maxDelaySeconds: 30, jitter: 'FULL' }],
          catch: [{ errorEquals: ['States.BranchFailed'], next: 'Oops', resultPath: '$.error' }],
          branches: [
            { startAt: 'W', states: { W: { type: 'Wait', seconds: 1, end: true } } },
            { startAt: 'Child', states: { Child: { type: 'Task', workflow: 'child-flow', timeoutSeconds: 10, end: true } } },
          ],
        },
        Check: {
          type: 'Choice', inputPath: '$', outputPath: null,
          choices: [
            { variable: '$.first', isPresent: true, next: 'Done' },
            { and: [{ variable: "$['a b']", stringMatches: 'x*' }, { not: { variable: '$.n', numericLessThanPath: '$.m' } }], next: 'Done' },
            { or: [{ variable: '$.t', timestampGreaterThan: '2026-01-02T15:04:05Z' }, { variable: '$.items[*].ok', isPresent: true }], next: 'Done' },
          ],
          default: 'Oops',
        },
        Done: { type: 'Succeed' },
        Oops: { type: 'Fail', error: 'Broken', cause: 'it broke' },
      },
    };
    expect(validateWorkflowSpec(spec)).toEqual([]);
    expect(parseWorkflowSpec(spec)).toEqual(spec);
  });

  const refused: [string, unknown, string[]][] = [
    ['a spec that is not an object', 'x', ['spec: Invalid value: "x": must be an object']],
    ['a Choice without choices', two({ type: 'Choice', default: 'B' }), ['spec.states.A.choices: Required value']],
    ['a field of the wrong type', one({ type: 'Wait', seconds: '5', end: true }), ['spec.states.A.seconds: Invalid value: "5": must be a number']],
    ['States.ALL with other errors', two(task('B', { retry: [{ errorEquals: ['States.ALL', 'X'] }] })), [
      'spec.states.A.retry[0].errorEquals: Invalid value: "States.ALL" must be the only error of its errorEquals',
    ]],
    ['States.ALL in a catcher before the last', two(task('B', { catch: [{ errorEquals: ['States.ALL'], next: 'B' }, { errorEquals: ['X'], next: 'B' }] })), [
      'spec.states.A.catch[0].errorEquals: Invalid value: "States.ALL" may appear only in the last catcher',
    ]],
    ['an unknown field, by its path', one({ ...task(), nxt: 'B' }), ['unknown field "spec.states.A.nxt"']],
    ['an unknown state type', one({ type: 'Tsk', end: true }), [
      'spec.states.A.type: Unsupported value: "Tsk": supported values: "Task", "Choice", "Parallel", "Map", "Wait", "Pass", "Succeed", "Fail"',
    ]],
    ['a state without type', one({ end: true }), [
      'spec.states.A.type: Required value: supported values: "Task", "Choice", "Parallel", "Map", "Wait", "Pass", "Succeed", "Fail"',
    ]],
    ['startAt naming no state', { startAt: 'X', states: { A: task() } }, ['spec.startAt: no state named "X"']],
    ['a next naming no state, with a suggestion', { startAt: 'Add', states: { Add: task('Ad') } }, [
      'spec.states.Add.next: no state named "Ad" (did you mean "Add"?)',
    ]],
    ['a next naming no state, with a suggestion by case', { startAt: 'Add', states: { Add: task('Done'), done: { type: 'Succeed' } } }, [
      'spec.states.Add.next: no state named "Done" (did you mean "done"?)', 'spec.states.done: unreachable: no state leads to it from startAt "Add"',
    ]],
    ['no states', { startAt: 'A', states: {} }, ['spec.states: Required value: at least one state', 'spec.startAt: no state named "A"']],
    ['neither next nor end', one({ type: 'Pass' }), ['spec.states.A.next: Required value: give exactly one of next and end: true']],
    ['end: false and no next', one({ type: 'Pass', end: false }), ['spec.states.A.next: Required value: end is false: give next, or end: true']],
    ['both next and end', two({ type: 'Pass', next: 'B', end: true }), [
      'spec.states.A.end: Forbidden: may not be specified together with `next` (give exactly one of next and end: true)',
    ]],
    ['a Choice with next', two({ type: 'Choice', choices: [{ variable: '$.x', isNull: true, next: 'B' }], next: 'B' }), [
      'unknown field "spec.states.A.next"',
    ]],
    ['a Choice without rules', two({ type: 'Choice', choices: [], default: 'B' }), ['spec.states.A.choices: Required value: at least one rule']],
    ['a top-level rule without next', two({ type: 'Choice', choices: [{ variable: '$.x', isNull: true }], default: 'B' }), [
      'spec.states.A.choices[0].next: Required value: a top-level rule needs next',
    ]],
    ['a nested rule with next', two({ type: 'Choice', choices: [{ not: { variable: '$.x', isNull: true, next: 'B' }, next: 'B' }] }), [
      'spec.states.A.choices[0].not.next: Forbidden: only a top-level rule has next',
    ]],
    ['a rule with two comparisons', two({ type: 'Choice', choices: [{ variable: '$.x', isNull: true, isString: true, next: 'B' }] }), [
      'spec.states.A.choices[0].isString: Forbidden: may not be specified together with `isNull` (a rule has one comparison; combine rules with and/or)',
    ]],
    ['a rule without comparison', two({ type: 'Choice', choices: [{ variable: '$.x', next: 'B' }] }), [
      'spec.states.A.choices[0].variable: Required value: give one comparison such as numericEquals or isPresent',
    ]],
    ['a comparison without variable', two({ type: 'Choice', choices: [{ numericEquals: 1, next: 'B' }] }), [
      'spec.states.A.choices[0].variable: Required value: a comparison needs variable (or give and, or, not)',
    ]],
    ['and together with a comparison', two({ type: 'Choice', choices: [{ and: [{ variable: '$.x', isNull: true }], variable: '$.y', next: 'B' }] }), [
      'spec.states.A.choices[0].variable: Forbidden: a rule with `and` has no variable or comparison',
    ]],
    ['an operand of the wrong type', two({ type: 'Choice', choices: [{ variable: '$.x', numericEquals: '1', next: 'B' }] }), [
      'spec.states.A.choices[0].numericEquals: Invalid value: "1": must be a number',
    ]],
    ['a timestamp that is not RFC 3339', two({ type: 'Choice', choices: [{ variable: '$.t', timestampEquals: '2026-02-30T00:00:00Z', next: 'B' }] }), [
      'spec.states.A.choices[0].timestampEquals: Invalid value: "2026-02-30T00:00:00Z": must be an RFC 3339 timestamp such as "2026-01-02T15:04:05Z"',
    ]],
    ['a default naming no state', two({ type: 'Choice', choices: [{ variable: '$.x', isNull: true, next: 'B' }], default: 'C' }), [
      'spec.states.A.default: no state named "C"',
    ]],
    ['a catch naming no state', two(task('B', { catch: [{ errorEquals: ['States.ALL'], next: 'Nope' }] })), [
      'spec.states.A.catch[0].next: no state named "Nope"',
    ]],
    ['a Task with neither function nor workflow', one({ type: 'Task', end: true }), ['spec.states.A.function: Required value: give exactly one of function and workflow']],
    ['a Task with both', one({ type: 'Task', function: 'f', workflow: 'w', end: true }), [
      'spec.states.A.function: Forbidden: may not be specified together with `workflow` (give exactly one of function and workflow)',
    ]],
    ['a function name that is not DNS-1123', one({ type: 'Task', function: 'Add_One', end: true }), [
      'spec.states.A.function: Invalid value: "Add_One": must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character',
    ]],
    ['a Wait with none of its four', one({ type: 'Wait', end: true }), [
      'spec.states.A.seconds: Required value: give exactly one of seconds, timestamp, secondsPath and timestampPath',
    ]],
    ['a Wait with two', one({ type: 'Wait', seconds: 1, timestampPath: '$.t', end: true }), [
      'spec.states.A.timestampPath: Forbidden: may not be specified together with `seconds` (give exactly one of seconds, timestamp, secondsPath and timestampPath)',
    ]],
    ['a Wait timestamp that is not RFC 3339', one({ type: 'Wait', timestamp: 'tomorrow', end: true }), [
      'spec.states.A.timestamp: Invalid value: "tomorrow": must be an RFC 3339 timestamp such as "2026-01-02T15:04:05Z"',
    ]],
    ['an unreachable state', { startAt: 'A', states: { A: task(), Lost: { type: 'Succeed' } } }, [
      'spec.states.Lost: unreachable: no state leads to it from startAt "A"',
    ]],
    ['a loop with no way out and no Wait', { startAt: 'A', states: { A: task('B'), B: { type: 'Pass', next: 'A' } } }, [
      'spec.states: states A -> B -> A loop forever: no state leads out and none waits',
    ]],
    ['a state that goes to itself', one({ type: 'Pass', next: 'A' }), ['spec.states: states A -> A loop forever: no state leads out and none waits']],
    ['a loop through a Choice whose every way stays in it', {
      startAt: 'A', states: { A: task('C'), C: { type: 'Choice', choices: [{ variable: '$.n', numericGreaterThan: 3, next: 'A' }], default: 'A' } },
    }, ['spec.states: states A -> C -> A loop forever: no state leads out and none waits']],
    ['an endless loop inside a branch', one({
      type: 'Parallel', end: true, branches: [{ startAt: 'X', states: { X: { type: 'Pass', next: 'Y' }, Y: { type: 'Pass', next: 'X' } } }],
    }), ['spec.states.A.branches[0].states: states X -> Y -> X loop forever: no state leads out and none waits']],
    ['a branch naming a state of the outer scope', two({
      type: 'Parallel', next: 'B', branches: [{ startAt: 'X', states: { X: { type: 'Pass', next: 'B' } } }],
    }), ['spec.states.A.branches[0].states.X.next: no state named "B"']],
    ['an item processor naming a state of the outer scope', two({
      type: 'Map', next: 'B', itemProcessor: { startAt: 'B', states: { X: { type: 'Succeed' } } },
    }), ['spec.states.A.itemProcessor.startAt: no state named "B"']],
    ['an inputPath that does not parse', one({ type: 'Pass', end: true, inputPath: '$.a[' }), [
      'spec.states.A.inputPath: Invalid value: "$.a[": not a reference path: expected an array index or a quoted name after "[" at 3',
    ]],
    ['an outputPath with a wildcard', one({ type: 'Pass', end: true, outputPath: '$.a[*]' }), [
      'spec.states.A.outputPath: Invalid value: "$.a[*]": not a reference path: may not use wildcards, slices, unions or filters: a reference path names one place',
    ]],
    ['a resultPath with descent', one({ type: 'Pass', end: true, resultPath: '$..a' }), [
      'spec.states.A.resultPath: Invalid value: "$..a": not a reference path: may not use ".." (descent): a reference path names one place',
    ]],
    ['a resultPath without $', one({ type: 'Pass', end: true, resultPath: 'a.b' }), [
      'spec.states.A.resultPath: Invalid value: "a.b": not a reference path: must start with "$"',
    ]],
    ['an itemsPath with a slice', one({ type: 'Map', end: true, itemsPath: '$.a[0:2]', itemProcessor: { startAt: 'X', states: { X: { type: 'Succeed' } } } }), [
      'spec.states.A.itemsPath: Invalid value: "$.a[0:2]": not a reference path: may not use wildcards, slices, unions or filters: a reference path names one place',
    ]],
    ['a catcher resultPath that does not parse', two(task('B', { catch: [{ errorEquals: ['States.ALL'], next: 'B', resultPath: '$.' }] })), [
      'spec.states.A.catch[0].resultPath: Invalid value: "$.": not a reference path: expected a member name after "." at 1',
    ]],
    ['a parameters path with a filter', one(task(undefined, { parameters: { 'x.$': '$.a[?(@.b > 1)]' } })), [
      'spec.states.A.parameters.x.$: Invalid value: "$.a[?(@.b > 1)]": not a JSONPath: filter and script expressions ("?(...)", "(...)") are not supported',
    ]],
    ['a parameters path that is not a string', one(task(undefined, { parameters: { nested: { 'x.$': 3 } } })), [
      'spec.states.A.parameters.nested.x.$: Invalid value: 3: a key ending in ".$" takes a path (a string such as "$.a")',
    ]],
    ['an intrinsic function', one(task(undefined, { resultSelector: { 'x.$': 'States.Format(\'{}\', $.a)' } })), [
      'spec.states.A.resultSelector.x.$: Invalid value: "States.Format(\'{}\', $.a)": intrinsic functions are not supported',
    ]],
    ['a Choice variable with an unclosed bracket', two({ type: 'Choice', choices: [{ variable: '$.a[0', isNull: true, next: 'B' }] }), [
      'spec.states.A.choices[0].variable: Invalid value: "$.a[0": not a JSONPath: unclosed "["',
    ]],
    ['a Choice variable reading the context object', two({ type: 'Choice', choices: [{ variable: '$$.State.Name', isNull: true, next: 'B' }] }), [
      'spec.states.A.choices[0].variable: Invalid value: "$$.State.Name": not a JSONPath: the context object "$$" cannot be read here',
    ]],
    ['a Choice path operand that does not parse', two({ type: 'Choice', choices: [{ variable: '$.a', numericEqualsPath: 'b', next: 'B' }] }), [
      'spec.states.A.choices[0].numericEqualsPath: Invalid value: "b": not a JSONPath: must start with "$"',
    ]],
    ['no branches', one({ type: 'Parallel', end: true, branches: [] }), [
      `spec.states.A.branches: Invalid value: 0 branches: must have between 1 and ${MAX_BRANCHES}, inclusive`,
    ]],
    ['too many branches', one({ type: 'Parallel', end: true, branches: Array.from({ length: MAX_BRANCHES + 1 }, () => ({ startAt: 'X', states: { X: { type: 'Succeed' } } })) }), [
      `spec.states.A.branches: Invalid value: ${MAX_BRANCHES + 1} branches: must have between 1 and ${MAX_BRANCHES}, inclusive`,
    ]],
    ['maxConcurrency 0', one({ type: 'Map', end: true, maxConcurrency: 0, itemProcessor: { startAt: 'X', states: { X: { type: 'Succeed' } } } }), [
      'spec.states.A.maxConcurrency: Invalid value: 0: must be greater than or equal to 1',
    ]],
    ['maxConcurrency over 256', one({ type: 'Map', end: true, maxConcurrency: 257, itemProcessor: { startAt: 'X', states: { X: { type: 'Succeed' } } } }), [
      'spec.states.A.maxConcurrency: Invalid value: 257: must be between 1 and 256, inclusive',
    ]],
    ['a state name over 80 characters', { startAt: 'n'.repeat(81), states: { ['n'.repeat(81)]: task() } }, [
      `spec.states.${'n'.repeat(81)}: Invalid value: state name is 81 characters: must be at most 80`,
    ]],
    ['a state name with "/"', { startAt: 'a/b', states: { 'a/b': task() } }, [
      'spec.states.a/b: Invalid value: "a/b": a state name may not contain "/", "#" or "@"',
    ]],
    ['a retrier with no errors and a backoff under 1', one(task(undefined, { retry: [{ errorEquals: [], backoffRate: 0.5 }] })), [
      'spec.states.A.retry[0].errorEquals: Required value: name at least one error (or States.ALL)',
      'spec.states.A.retry[0].backoffRate: must be greater than or equal to 1',
    ]],
    ['a whole-run timeout of 0', { ...one(task()), timeoutSeconds: 0 }, ['spec.timeoutSeconds: Invalid value: 0: must be greater than or equal to 1']],
  ];
  it.each(refused)('refuses %s', (_what, spec, messages) => {
    expect(validateWorkflowSpec(spec)).toEqual(messages);
  });

  it(`refuses more than ${MAX_STATES} states in one map, and accepts ${MAX_STATES}`, () => {
    const chain = (n: number): Spec => {
      const states: Record<string, Spec> = {};
      for (let i = 0; i < n; i++) states[`S${i}`] = i === n - 1 ? { type: 'Succeed' } : { type: 'Pass', next: `S${i + 1}` };
      return { startAt: 'S0', states };
    };
    expect(validateWorkflowSpec(chain(MAX_STATES))).toEqual([]);
    expect(validateWorkflowSpec(chain(MAX_STATES + 1))).toEqual([`spec.states: Too many: ${MAX_STATES + 1}: must have at most ${MAX_STATES} states`]);
  });

  const accepted: [string, Spec][] = [
    ['a loop through a Choice that can leave it', {
      startAt: 'Try', states: {
        Try: task('Check'),
        Check: { type: 'Choice', choices: [{ variable: '$.done', booleanEquals: true, next: 'Done' }], default: 'Try' },
        Done: { type: 'Succeed' },
      },
    }],
    ['a loop whose way out is a catch', { startAt: 'A', states: { A: task('B', { catch: [{ errorEquals: ['X'], next: 'F' }] }), B: { type: 'Pass', next: 'A' }, F: { type: 'Fail' } } }],
    ['an endless loop that waits (polling)', { startAt: 'Poll', states: { Poll: task('Sleep'), Sleep: { type: 'Wait', secondsPath: '$.delay', next: 'Poll' } } }],
    ['a state of exactly 80 characters', { startAt: 'n'.repeat(80), states: { ['n'.repeat(80)]: task() } }],
    ['reference paths of every form', one({ type: 'Pass', end: true, inputPath: "$['a b'][0].c", outputPath: '$["x"]', resultPath: '$.r_1.$v-2' })],
    ['null inputPath, outputPath and resultPath', one({ type: 'Pass', end: true, inputPath: null, outputPath: null, resultPath: null })],
    ['JSONPath with wildcards, descent, slices and unions in parameters and variable', {
      startAt: 'A', states: {
        A: task('C', { parameters: { 'all.$': '$.items[*].id', 'deep.$': '$..id', 'some.$': '$.items[0:2]', 'two.$': "$['a','b']", 'ctx.$': '$$.Execution.Id' } }),
        C: { type: 'Choice', choices: [{ variable: '$..ok', isPresent: true, next: 'D' }], default: 'D' },
        D: { type: 'Succeed' },
      },
    }],
  ];
  it.each(accepted)('accepts %s', (_what, spec) => {
    expect(validateWorkflowSpec(spec)).toEqual([]);
  });

  it('parseWorkflowSpec throws a ValidationError that lists every problem', () => {
    const spec = { startAt: 'A', states: { A: { type: 'Pass', next: 'Nope', extra: 1 }, Lost: { type: 'Succeed' } } };
    let err: unknown;
    try { parseWorkflowSpec(spec); } catch (e) { err = e; }
    expect(isValidation(err)).toBe(true);
    const issues = ['unknown field "spec.states.A.extra"', 'spec.states.A.next: no state named "Nope"', 'spec.states.Lost: unreachable: no state leads to it from startAt "A"'];
    expect((err as { issues: string[] }).issues).toEqual(issues);
    expect((err as Error).message).toBe(`Workflow spec is invalid: ${issues.join('; ')}`);
  });
});
