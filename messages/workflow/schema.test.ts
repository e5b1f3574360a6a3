import { canonicalJson } from './canonical-json';
import { jsonPathError, parseReferencePath } from './jsonpath';
import { isFinalPhase, WORKFLOW_RUN_PHASES, WorkflowRunSchema, WorkflowRunSpec, WorkflowRunStatus } from './run';
import { WorkflowSchema } from './workflow';
import { errorMatches, isStatesError, StatesError, StatesErrors } from './errors';
import { parseTimestamp } from './timestamp';

const spec = { startAt: 'A', states: { A: { type: 'Pass', end: true } } };
const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string; code: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.code === 'unrecognized_keys' ? 'unknown field' : i.message}`);

describe('WorkflowRun', () => {
  it('takes a workflowRef or an inline workflow, with input or inputRef', () => {
    expect(WorkflowRunSpec.safeParse({ workflowRef: { name: 'orders' }, input: { a: [1, 'x', null] } }).success).toBe(true);
    expect(WorkflowRunSpec.safeParse({ workflow: spec, inputRef: { bucket: 'payloads', key: 'r1/input' } }).success).toBe(true);
    expect(WorkflowRunSpec.safeParse({ workflowRef: { name: 'orders' } }).success).toBe(true);
  });

  const refused: [string, unknown, string[]][] = [
    ['neither workflowRef nor workflow', {}, ['workflowRef: Required value: give exactly one of workflowRef and workflow']],
    ['both', { workflowRef: { name: 'a' }, workflow: spec }, ['workflow: Forbidden: may not be specified together with `workflowRef`']],
    ['input and inputRef', { workflowRef: { name: 'a' }, input: 1, inputRef: { bucket: 'b', key: 'k' } }, ['inputRef: Forbidden: may not be specified together with `input`']],
    ['an inline workflow that is invalid', { workflow: { startAt: 'B', states: spec.states } }, ['workflow.startAt: no state named "B"']],
    ['an unknown field', { workflowRef: { name: 'a' }, inputs: 1 }, [': unknown field']],
  ];
  it.each(refused)('refuses %s', (_what, value, want) => {
    expect(issues(WorkflowRunSpec.safeParse(value))).toEqual(want);
  });

  it('parses a status and whole objects', () => {
    const status = {
      phase: 'Failed', specHash: 'ab'.repeat(32), startTime: '2026-01-02T15:04:05Z', completionTime: '2026-01-02T15:04:06Z',
      currentStates: [], error: { error: 'States.TaskFailed', cause: 'boom' }, events: 7,
    };
    expect(WorkflowRunStatus.parse(status)).toEqual(status);
    expect(issues(WorkflowRunStatus.safeParse({ phase: 'Done' }))[0]).toMatch(/^phase: /);
    const meta = { name: 'r1', namespace: 'default' };
    expect(WorkflowRunSchema.safeParse({ apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: meta, spec: { workflowRef: { name: 'w' } } }).success).toBe(true);
    expect(WorkflowSchema.safeParse({ apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: meta, spec }).success).toBe(true);
    expect(issues(WorkflowSchema.safeParse({ apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: meta, spec: { ...spec, startAt: 'X' } })))
      .toEqual(['spec.startAt: no state named "X"']);
  });

  it('knows which phases are final', () => {
    expect(WORKFLOW_RUN_PHASES.filter((p) => isFinalPhase(p))).toEqual(['Succeeded', 'Failed', 'Cancelled', 'TimedOut']);
    expect(isFinalPhase(undefined)).toBe(false);
  });
});

describe('errors', () => {
  it('carry the Step Functions name and match retriers', () => {
    const e = new StatesError(StatesErrors.Timeout, 'took 10s');
    expect(isStatesError(e)).toBe(true);
    expect(isStatesError(e, StatesErrors.Runtime)).toBe(false);
    expect(isStatesError(new Error('x'))).toBe(false);
    expect(e.toOutput()).toEqual({ error: 'States.Timeout', cause: 'took 10s' });
    expect(errorMatches(['States.ALL'], 'MyError')).toBe(true);
    expect(errorMatches(['States.Timeout', 'MyError'], 'MyError')).toBe(true);
    expect(errorMatches(['States.Timeout'], 'MyError')).toBe(false);
  });
});

describe('parseTimestamp', () => {
  const cases: [string, number | undefined][] = [
    ['2026-01-02T15:04:05Z', Date.UTC(2026, 0, 2, 15, 4, 5)],
    ['2026-01-02t15:04:05z', Date.UTC(2026, 0, 2, 15, 4, 5)],
    ['2026-01-02T17:04:05+02:00', Date.UTC(2026, 0, 2, 15, 4, 5)],
    ['2026-01-02T15:04:05.123456Z', Date.UTC(2026, 0, 2, 15, 4, 5, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2026-02-29T00:00:00Z', undefined],
    ['2026-01-02T15:04:05', undefined],
    ['2026-01-02 15:04:05Z', undefined],
    ['2026-01-02', undefined],
    ['2026-01-02T24:00:00Z', undefined],
    ['2026-01-02T15:04:05+24:00', undefined],
    ['1767366245', undefined],
  ];
  it.each(cases)('%s is %s', (s, want) => {
    expect(parseTimestamp(s)).toBe(want);
  });
});

describe('paths', () => {
  const refs: [string, (string | number)[] | string][] = [
    ['$', []],
    ['$.a.b', ['a', 'b']],
    ["$['a b'][0]", ['a b', 0]],
    ['$["x.y"].z', ['x.y', 'z']],
    ['$.a[', 'expected an array index or a quoted name after "[" at 3'],
    ['$.a[*]', 'may not use wildcards, slices, unions or filters: a reference path names one place'],
    ['$.a[?(@.x)]', 'may not use wildcards, slices, unions or filters: a reference path names one place'],
    ['$..a', 'may not use ".." (descent): a reference path names one place'],
    ["$['a", 'unterminated quoted member name at 1'],
    ['$$.a', 'must start with "$" (the context object "$$" cannot be written or read here)'],
    ['$a', 'unexpected "a" at 1'],
  ];
  it.each(refs)('reference path %s parses to %j', (path, want) => {
    expect(parseReferencePath(path)).toEqual(want);
  });

  const any: [string, boolean, string | null][] = [
    ['$.a[*].b', false, null],
    ['$..b', false, null],
    ['$.a[0:2]', false, null],
    ["$['a','b']", false, null],
    ['$$.Execution.Id', true, null],
    ['$$.Execution.Id', false, 'the context object "$$" cannot be read here'],
    ['$.a[?(@.b)]', false, 'filter and script expressions ("?(...)", "(...)") are not supported'],
    ['$.a[(@.length-1)]', false, 'filter and script expressions ("?(...)", "(...)") are not supported'],
    ['$.a[', false, 'unclosed "["'],
    ['$.a]', false, 'unbalanced "]"'],
    ['$.a[]', false, 'empty brackets "[]"'],
    ['$.', false, 'ends with "."'],
    ["$['a]", false, 'unterminated quoted name'],
    ['a.b', false, 'must start with "$"'],
  ];
  it.each(any)('JSONPath %s (context %s): %s', (path, context, want) => {
    expect(jsonPathError(path, { context })).toBe(want);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    expect(canonicalJson('s')).toBe('"s"');
    expect(canonicalJson([undefined])).toBe('[null]');
  });
});
