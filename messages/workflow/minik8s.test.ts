import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateChoice } from './choice';
import { compileWorkflowText, MAX_FOR_TIMES, WorkflowTextError } from './minik8s';
import { validateWorkflowSpec } from './validate';
import type { ChoiceState, State, TaskState } from './schema';

const ENCRYPTION = fs.readFileSync(path.resolve(__dirname, '..', '..', 'examples', 'workflows', 'encryption.txt'), 'utf8');

/** The function calls a run would make for `value`, following the compiled states (Choices decided on the value as given). */
function calls(text: string, value: unknown): string[] {
  const spec = compileWorkflowText(text);
  const out: string[] = [];
  let name: string | undefined = spec.startAt;
  while (name !== undefined) {
    const s: State = spec.states[name]!;
    if (s.type === 'Choice') { name = evaluateChoice(s.choices, value as never) ?? s.default; continue; }
    if (s.type === 'Task') out.push(s.function!);
    name = 'next' in s && s.next !== undefined ? s.next : undefined;
  }
  return out;
}

describe('compileWorkflowText', () => {
  it('compiles MiniK8s\'s encryption workflow to a valid spec, "_" read as "-"', () => {
    const spec = compileWorkflowText(ENCRYPTION);
    expect(validateWorkflowSpec(spec)).toEqual([]);
    expect(spec.startAt).toBe('move_right (line 1)');
    expect(spec.states['move_right (line 1)']).toEqual({ type: 'Task', function: 'move-right', next: 'convert_num (line 2)' });
    expect(spec.states['convert_num (line 2)']).toEqual({ type: 'Task', function: 'convert-num', next: 'IF GREATER 77851361 (line 3)' });
    const choice = spec.states['IF GREATER 77851361 (line 3)'] as ChoiceState;
    expect(choice).toEqual({
      type: 'Choice', choices: [{ variable: '$', numericGreaterThan: 77851361, next: 'THEN add (line 3)' }], default: 'ELSE subtract (line 3)',
    });
    expect(spec.states['THEN add (line 3)']).toEqual({ type: 'Task', function: 'add', next: 'convert_char (line 4)' });
    expect(spec.states['ELSE subtract (line 3)']).toEqual({ type: 'Task', function: 'subtract', next: 'convert_char (line 4)' });
    expect(spec.states['convert_char (line 4)']).toEqual({ type: 'Task', function: 'convert-char', end: true });
  });

  it('reads IF GREATER n as "the value is greater than n", numerically for numbers', () => {
    expect(calls('IF GREATER 77851361 THEN add ELSE subtract', 6006614195)).toEqual(['add']);
    expect(calls('IF GREATER 77851361 THEN add ELSE subtract', 602083)).toEqual(['subtract']);
    // As strings, "9" > "77851361"; as numbers it is not.
    expect(calls('IF GREATER 77851361 THEN add ELSE subtract', 9)).toEqual(['subtract']);
    expect(calls('IF LESS 10 THEN a ELSE b', 9)).toEqual(['a']);
    expect(calls('IF LESS 10 THEN a ELSE b', 10)).toEqual(['b']);
    expect(calls('IF EQUALS 10 THEN a ELSE b', 10)).toEqual(['a']);
    expect(calls('IF NEQ 10 THEN a ELSE b', 10)).toEqual(['b']);
    expect(calls('IF NEQ 10 THEN a ELSE b', 11)).toEqual(['a']);
  });

  it('compares strings as strings, and a string never equals a number', () => {
    expect(calls('IF EQUALS hello THEN a ELSE b', 'hello')).toEqual(['a']);
    expect(calls('IF EQUALS "hello world" THEN a ELSE b', 'hello world')).toEqual(['a']);
    expect(calls('IF GREATER abc THEN a ELSE b', 'abd')).toEqual(['a']);
    expect(calls('IF EQUALS 10 THEN a ELSE b', '10')).toEqual(['b']);
    expect(calls('IF NEQ 10 THEN a ELSE b', '10')).toEqual(['a']);
  });

  it('runs FOR n TIMES DO f as n calls in a row, and an IF without ELSE passes the value on', () => {
    expect(calls('start\nFOR 3 TIMES DO add\nend_step', 1)).toEqual(['start', 'add', 'add', 'add', 'end-step']);
    expect(calls('IF GREATER 5 THEN big\nafter', 1)).toEqual(['after']);
    expect(calls('IF GREATER 5 THEN big\nafter', 9)).toEqual(['big', 'after']);
    expect(calls('IF GREATER 5 THEN big', 1)).toEqual([]);
    const last = compileWorkflowText('IF GREATER 5 THEN big');
    expect(validateWorkflowSpec(last)).toEqual([]);
    expect(last.states['IF GREATER 5 is false (line 1)']).toEqual({ type: 'Pass', end: true });
    const loop = compileWorkflowText('FOR 2 TIMES DO add');
    expect(Object.keys(loop.states)).toEqual(['add (line 1, 1 of 2)', 'add (line 1, 2 of 2)']);
    expect((loop.states['add (line 1, 2 of 2)'] as TaskState).end).toBe(true);
  });

  it('skips blank lines and comments, takes keywords in any case, and names lines as the file numbers them', () => {
    const spec = compileWorkflowText('# encrypt\n\n  move_right  \nif greater 1 then a else b\nfor 2 times do c\n');
    expect(validateWorkflowSpec(spec)).toEqual([]);
    expect(Object.keys(spec.states)).toEqual(['move_right (line 3)', 'IF GREATER 1 (line 4)', 'THEN a (line 4)', 'ELSE b (line 4)', 'c (line 5, 1 of 2)', 'c (line 5, 2 of 2)']);
  });

  it.each([
    ['', 'the workflow has no steps: write one function name, IF or FOR per line'],
    ['# only a comment\n', 'the workflow has no steps: write one function name, IF or FOR per line'],
    ['a\nMove_Right', 'line 2: "Move_Right" is not a function name: it must be lower case letters, digits, "-" and "_", start and end with a letter or digit, and be at most 63 characters'],
    ['a b', 'line 1: expected a function name, IF or FOR, not "a b"'],
    ['IF BIGGER 5 THEN a', 'line 1: IF needs a comparison: GREATER, LESS, EQUALS or NEQ, not "BIGGER"'],
    ['IF GREATER', 'line 1: IF GREATER needs a value to compare with'],
    ['IF GREATER 5 a', 'line 1: expected "IF GREATER 5 THEN <function> [ELSE <function>]"'],
    ['IF GREATER 5 THEN a OTHERWISE b', 'line 1: expected "IF GREATER 5 THEN a ELSE <function>" and nothing after it'],
    ['IF GREATER 5 THEN a ELSE b c', 'line 1: expected "IF GREATER 5 THEN a ELSE <function>" and nothing after it'],
    ['FOR 3 TIMES add', 'line 1: expected "FOR <n> TIMES DO <function>"'],
    ['FOR 0 TIMES DO add', `line 1: FOR needs a whole number of times from 1 to ${MAX_FOR_TIMES}, not "0"`],
    ['FOR 2.5 TIMES DO add', `line 1: FOR needs a whole number of times from 1 to ${MAX_FOR_TIMES}, not "2.5"`],
    [`FOR ${MAX_FOR_TIMES + 1} TIMES DO add`, `line 1: FOR needs a whole number of times from 1 to ${MAX_FOR_TIMES}, not "${MAX_FOR_TIMES + 1}"`],
  ])('refuses %j: %s', (text, message) => {
    expect(() => compileWorkflowText(text)).toThrow(new WorkflowTextError(message));
    try { compileWorkflowText(text); } catch (e) { expect(e).toBeInstanceOf(WorkflowTextError); }
  });

  it('keeps state names short for a long comparison value', () => {
    const spec = compileWorkflowText(`IF EQUALS "${'x'.repeat(100)}" THEN a ELSE b`);
    expect(validateWorkflowSpec(spec)).toEqual([]);
    expect(spec.startAt.length).toBeLessThanOrEqual(80);
  });
});
