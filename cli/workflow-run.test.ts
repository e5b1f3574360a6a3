import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkflowSpec } from '../messages/workflow/workflow';
import { WorkflowRunSchema } from '../messages/workflow/run';
import { CliError, formatError } from './errors';
import {
  compileRunText, fileRunBase, groupNotFound, inputByReference, newRun, parseRunInput, readRunFile, runFailureLine, runName, runProgressLine,
} from './workflow-run';
import type { WorkflowRunObject } from '../messages';

describe('parseRunInput', () => {
  it('reads JSON, and takes anything else as a string', () => {
    expect(parseRunInput(undefined)).toEqual({});
    expect(parseRunInput('5')).toBe(5);
    expect(parseRunInput('-2.5e3')).toBe(-2500);
    expect(parseRunInput('{"a":[1,true,null]}')).toEqual({ a: [1, true, null] });
    expect(parseRunInput('"quoted"')).toBe('quoted');
    expect(parseRunInput('true')).toBe(true);
    expect(parseRunInput('null')).toBeNull();
    expect(parseRunInput('hello')).toBe('hello');
    expect(parseRunInput('{not json')).toBe('{not json');
    expect(parseRunInput('')).toBe('');
  });

  it('refuses an input larger than a run may carry, naming where it came from', () => {
    expect(() => parseRunInput('x'.repeat(64 * 1024 * 1024 + 1), 'big.json')).toThrow(/big.json is 67108865 bytes: a run's input may be at most 67108864 bytes/);
  });

  it('says when an input must travel by reference', () => {
    expect(inputByReference('x'.repeat(1024 * 1024))).toBe(true);
    expect(inputByReference({ a: 1 })).toBe(false);
  });
});

describe('runName', () => {
  it('adds a dash and five characters of Kubernetes\' alphabet', () => {
    const names = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const n = runName('check-order');
      expect(n).toMatch(/^check-order-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      names.add(n);
    }
    expect(names.size).toBeGreaterThan(45);
  });

  it('uses the random source given, and keeps a long base within a DNS-1123 label', () => {
    expect(runName('wf', () => 0)).toBe('wf-bbbbb');
    expect(runName('wf', () => 0.9999)).toBe('wf-99999');
    const long = runName(`${'a'.repeat(56)}-${'b'.repeat(20)}`, () => 0);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toBe(`${'a'.repeat(56)}-bbbbb`);
  });
});

describe('fileRunBase', () => {
  it('is the file\'s base name without extension, made DNS-1123', () => {
    expect(fileRunBase('examples/workflows/encryption.txt')).toBe('encryption');
    expect(fileRunBase('/tmp/My_Flow.v2.txt')).toBe('my-flow-v2');
    expect(fileRunBase('--__.txt')).toBe('workflow');
    expect(fileRunBase('noext')).toBe('noext');
    expect(fileRunBase(`${'x'.repeat(100)}.txt`)).toHaveLength(57);
  });
});

describe('compileRunText', () => {
  it('compiles MiniK8s\'s text language to a spec the schema accepts', () => {
    const { spec, base } = compileRunText('move_right\nIF GREATER 10 THEN add ELSE subtract\n', 'flows/enc.txt');
    expect(base).toBe('enc');
    expect(WorkflowSpec.safeParse(spec).success).toBe(true);
  });

  it('names the file and the line of a compile error', () => {
    let caught: unknown;
    try {
      compileRunText('move_right\n\nIF BIGGER 3 THEN add\n', 'flows/bad.txt');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(formatError(caught)).toMatch(/^error: flows\/bad\.txt: line 3: /);
  });
});

describe('readRunFile', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-wf-run-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a Workflow manifest and names the run after it', () => {
    const f = path.join(dir, 'flow.yaml');
    fs.writeFileSync(f, 'apiVersion: mk.io/v1\nkind: Workflow\nmetadata:\n  name: greet\nspec:\n  startAt: A\n  states:\n    A: {type: Succeed}\n');
    expect(readRunFile(f)).toEqual({ base: 'greet', spec: { startAt: 'A', states: { A: { type: 'Succeed' } } } });
  });

  it('refuses a manifest that is not one Workflow, and a missing file', () => {
    const f = path.join(dir, 'pod.yaml');
    fs.writeFileSync(f, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n');
    expect(() => readRunFile(f)).toThrow(/pod\.yaml: expected one Workflow .* found 1 document\(s\) and 0 Workflow\(s\)/);
    expect(() => readRunFile(path.join(dir, 'none.txt'))).toThrow(/cannot read .*none\.txt: no such file/);
  });

  it('compiles a text file', () => {
    const f = path.join(dir, 'one.txt');
    fs.writeFileSync(f, 'add\n');
    const { spec, base } = readRunFile(f);
    expect(base).toBe('one');
    expect(Object.values(spec.states).map((s) => s.type)).toContain('Task');
  });
});

describe('newRun', () => {
  it('makes a WorkflowRun the schema accepts, by reference or inline', () => {
    const byRef = newRun('wf-bbbbb', 'default', { workflowRef: 'wf' }, 5);
    expect(byRef.spec).toEqual({ workflowRef: { name: 'wf' }, input: 5 });
    expect(WorkflowRunSchema.safeParse(byRef).success).toBe(true);
    const inline = newRun('x-bbbbb', 'ns1', { workflow: { startAt: 'A', states: { A: { type: 'Succeed' } } } }, {});
    expect(inline.metadata).toEqual({ name: 'x-bbbbb', namespace: 'ns1' });
    expect(WorkflowRunSchema.safeParse(inline).success).toBe(true);
  });
});

describe('messages', () => {
  const run = (status: WorkflowRunObject['status']): WorkflowRunObject => ({
    apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name: 'wf-abcde' }, spec: { workflowRef: { name: 'wf' } }, status,
  }) as WorkflowRunObject;

  it('words a run that did not succeed', () => {
    expect(runFailureLine(run({ phase: 'Failed', error: { error: 'Order.Invalid', cause: 'amount is negative' } })))
      .toBe('Error: run wf-abcde Failed: Order.Invalid: amount is negative');
    expect(runFailureLine(run({ phase: 'Cancelled', error: { error: 'States.Cancelled' } }))).toBe('Error: run wf-abcde Cancelled: States.Cancelled');
    expect(runFailureLine(run({ phase: 'TimedOut' }))).toBe('Error: run wf-abcde TimedOut');
  });

  it('shows the phase and the states running now', () => {
    expect(runProgressLine(run(undefined))).toBe('workflowrun.mk.io/wf-abcde: Pending');
    expect(runProgressLine(run({ phase: 'Running', currentStates: ['Wait#1', 'B#2'] }))).toBe('workflowrun.mk.io/wf-abcde: Running (Wait#1, B#2)');
  });

  it('words NotFound as kubectl does for a kind of an API group', () => {
    expect(formatError(groupNotFound({ plural: 'workflows', apiVersion: 'mk.io/v1' }, 'nope')))
      .toBe('Error from server (NotFound): workflows.mk.io "nope" not found');
  });
});
