import { StatesError, StatesErrors } from './errors';
import {
  applyInputPath, applyOutputPath, applyParameters, applyResultPath, applyResultSelector, selectPath, type ContextObject,
} from './paths';
import type { JsonValue } from './schema';

/** Freezes a value all the way down, so a function that writes to it throws. */
function frozen<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) frozen(x);
    Object.freeze(v);
  }
  return v;
}

function thrown(f: () => unknown): StatesError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatesError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

// The examples of https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
const datasets = frozen({
  comment: 'Example for InputPath.',
  dataset1: { val1: 1, val2: 2, val3: 3 },
  dataset2: { val1: 'a', val2: 'b', val3: 'c' },
});
const product = frozen({
  product: { details: { color: 'blue', size: 'small', material: 'cotton' }, availability: 'in stock', sku: '2317', cost: '$23' },
});
const hello = frozen({ comment: 'This is a test of the input and output of a Task state.', details: 'Default example', who: 'AWS Step Functions' });
const context: ContextObject = frozen({
  Execution: { Id: 'default/order-1', Name: 'order-1' },
  State: { Name: 'Add', EnteredTime: '2026-01-02T15:04:05Z', RetryCount: 0 },
  Map: { Item: { Index: 2, Value: { id: 'c' } } },
});

describe('inputPath and outputPath', () => {
  const cases: [string, JsonValue, string | null | undefined, JsonValue][] = [
    ['a member (the docs\' InputPath example)', datasets, '$.dataset2', { val1: 'a', val2: 'b', val3: 'c' }],
    ['$ keeps all', datasets, '$', datasets],
    ['undefined keeps all', datasets, undefined, datasets],
    ['null gives {}', datasets, null, {}],
    ['a quoted member and an index', frozen({ 'a b': [10, 20] }), "$['a b'][1]", 20],
    ['a member that is null', frozen({ a: null }), '$.a', null],
    ['a scalar input with $', 7, '$', 7],
  ];
  it.each(cases)('selects %s', (_what, input, path, want) => {
    expect(applyInputPath(input, path)).toEqual(want);
    expect(applyOutputPath(input, path)).toEqual(want);
  });

  it('fails with States.Runtime when the path matches nothing', () => {
    const e = thrown(() => applyInputPath(datasets, '$.dataset3'));
    expect([e.error, e.message]).toEqual([StatesErrors.Runtime, 'inputPath "$.dataset3" matches nothing in the input']);
    const o = thrown(() => applyOutputPath(5, '$.a'));
    expect([o.error, o.message]).toEqual([StatesErrors.Runtime, 'outputPath "$.a" matches nothing in the output']);
    expect(o.toOutput()).toEqual({ error: 'States.Runtime', cause: 'outputPath "$.a" matches nothing in the output' });
  });
});

describe('selectPath', () => {
  const input = frozen<JsonValue>({ items: [{ id: 'a', ok: true }, { id: 'b' }], n: 0 });
  const cases: [string, string, JsonValue][] = [
    ['one value', '$.items[1].id', 'b'],
    ['a falsy value', '$.n', 0],
    ['every match of a wildcard', '$.items[*].id', ['a', 'b']],
    ['every match of a descent', '$..ok', [true]],
    ['a slice', '$.items[0:1]', [{ id: 'a', ok: true }]],
  ];
  it.each(cases)('reads %s', (_what, path, want) => {
    expect(selectPath(input, path)).toEqual(want);
  });

  it('fails with States.Runtime on no match', () => {
    expect(thrown(() => selectPath(input, '$.items[*].missing')).error).toBe(StatesErrors.Runtime);
    expect(thrown(() => selectPath(input, '$.items[5]')).message).toBe('path "$.items[5]" matches nothing in the input');
  });

  it('never evaluates a filter', () => {
    expect(() => selectPath(input, '$.items[?(@.ok)]')).toThrow(/Eval \[\?\(expr\)\] prevented/);
  });
});

describe('parameters and resultSelector', () => {
  it('fills the docs\' Parameters example', () => {
    const template = frozen({
      comment: 'Selecting what I care about.',
      MyDetails: { 'size.$': '$.product.details.size', 'exists.$': '$.product.availability', StaticValue: 'foo' },
    });
    expect(applyParameters(template, product)).toEqual({
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    });
  });

  it('fills the docs\' ResultSelector example', () => {
    const result = frozen({
      resourceType: 'elasticmapreduce',
      resource: 'createCluster.sync',
      output: { SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: '1234' }, ClusterId: 'AKIAIOSFODNN7EXAMPLE' },
    });
    expect(applyResultSelector({ 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' }, result))
      .toEqual({ ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' });
  });

  it('reads the context object with $$', () => {
    expect(applyParameters({
      'run.$': '$$.Execution.Id', 'state.$': '$$.State.Name', 'at.$': '$$.State.EnteredTime',
      'index.$': '$$.Map.Item.Index', 'item.$': '$$.Map.Item.Value', 'whole.$': '$',
    }, { x: 1 }, context)).toEqual({
      run: 'default/order-1', state: 'Add', at: '2026-01-02T15:04:05Z', index: 2, item: { id: 'c' }, whole: { x: 1 },
    });
  });

  it('fills objects inside arrays, keeps other values, and reads every match of a wildcard', () => {
    const input = frozen({ items: [{ id: 'a' }, { id: 'b' }] });
    expect(applyParameters({ list: [{ 'first.$': '$.items[0].id' }, 3, null], 'ids.$': '$.items[*].id' }, input))
      .toEqual({ list: [{ first: 'a' }, 3, null], ids: ['a', 'b'] });
  });

  it('copies what it reads, so the payload shares nothing with the input', () => {
    const input = { a: { b: 1 } };
    const out = applyParameters({ 'a.$': '$.a' }, input) as { a: { b: number } };
    out.a.b = 2;
    expect(input.a.b).toBe(1);
  });

  it('makes a key named __proto__ an own member', () => {
    const out = applyParameters(JSON.parse('{"__proto__.$": "$.x"}') as Record<string, JsonValue>, { x: { polluted: true } });
    expect(Object.keys(out as object)).toEqual(['__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  const failures: [string, () => unknown, string][] = [
    ['a path that matches nothing', () => applyParameters({ 'x.$': '$.nope' }, product), 'parameters field "x.$": path "$.nope" matches nothing'],
    ['a context path without context', () => applyParameters({ 'x.$': '$$.State.Name' }, product), 'parameters field "x.$": no context object to read "$$.State.Name" from'],
    ['a context path that matches nothing', () => applyParameters({ 'x.$': '$$.Map.Nope' }, {}, context), 'parameters field "x.$": path "$$.Map.Nope" matches nothing'],
    ['a resultSelector path that matches nothing', () => applyResultSelector({ 'id.$': '$.output.Id' }, { output: {} }), 'resultSelector field "id.$": path "$.output.Id" matches nothing'],
    ['a path that is not a string', () => applyParameters({ 'x.$': 1 }, {}), 'parameters field "x.$" must hold a path, not 1'],
  ];
  it.each(failures)('fails with States.ParameterPathFailure on %s', (_what, f, message) => {
    const e = thrown(f);
    expect([e.error, e.message]).toEqual([StatesErrors.ParameterPathFailure, message]);
  });
});

describe('resultPath', () => {
  const result = 'Hello, AWS Step Functions!';
  const cases: [string, JsonValue, string | null | undefined, JsonValue][] = [
    ['$ replaces the input with the result', hello, '$', result],
    ['undefined is $', hello, undefined, result],
    ['null discards the result', hello, null, hello],
    ['a member adds the result to the input', hello, '$.taskresult', { ...hello, taskresult: result }],
    ['a member replaces a value there', hello, '$.who', { ...hello, who: result }],
    ['missing members are created', hello, '$.strings.lambdaresult', { ...hello, strings: { lambdaresult: result } }],
    ['a quoted member', frozen({}), "$['a b']", { 'a b': result }],
    ['an index replaces an item', frozen({ a: [1, 2] }), '$.a[1]', { a: [1, result] }],
    ['an index just past the end appends', frozen({ a: [1] }), '$.a[1]', { a: [1, result] }],
    ['a path below an index', frozen({ a: [{ x: 1 }] }), '$.a[0].y', { a: [{ x: 1, y: result }] }],
  ];
  it.each(cases)('%s', (_what, input, path, want) => {
    expect(applyResultPath(input, result, path)).toEqual(want);
  });

  it('returns a new object and leaves the input as it was', () => {
    const input = { a: { b: 1 }, c: [1] };
    const before = structuredClone(input);
    const out = applyResultPath(input, 2, '$.a.d') as typeof input & { a: { d: number } };
    expect(out).toEqual({ a: { b: 1, d: 2 }, c: [1] });
    expect(input).toEqual(before);
    expect(out.a).not.toBe(input.a);
  });

  const failures: [string, JsonValue, string, string][] = [
    ['the input is a string', 'text', '$.a', 'resultPath "$.a" cannot be set: $ is a string, not an object'],
    ['a member on the way is a number', frozen({ a: 1 }), '$.a.b', 'resultPath "$.a.b" cannot be set: $.a is a number, not an object'],
    ['a member on the way is an array', frozen({ a: [] }), '$.a.b', 'resultPath "$.a.b" cannot be set: $.a is an array, not an object'],
    ['an index into an object', frozen({ a: {} }), '$.a[0]', 'resultPath "$.a[0]" cannot be set: $.a is an object, not an array with index 0'],
    ['an index past the end', frozen({ a: [1] }), '$.a[3]', 'resultPath "$.a[3]" cannot be set: $.a is an array of 1, not an array with index 3'],
    ['a path that is not a reference path', frozen({}), '$.a[*]', 'resultPath "$.a[*]" is not a reference path: may not use wildcards, slices, unions or filters: a reference path names one place'],
  ];
  it.each(failures)('fails with States.ResultPathMatchFailure when %s', (_what, input, path, message) => {
    const e = thrown(() => applyResultPath(input, 1, path));
    expect([e.error, e.message]).toEqual([StatesErrors.ResultPathMatchFailure, message]);
  });
});

describe('a whole state\'s data flow', () => {
  it('runs inputPath, parameters, resultSelector, resultPath and outputPath in order, as the docs\' walk-through', () => {
    const input = frozen({ order: { id: 'o1', lines: [{ sku: 'a', qty: 2 }] }, customer: 'c1' });
    const effective = applyInputPath(input, '$.order');
    const payload = applyParameters({ 'orderId.$': '$.id', 'first.$': '$.lines[0]', 'state.$': '$$.State.Name' }, effective, context);
    expect(payload).toEqual({ orderId: 'o1', first: { sku: 'a', qty: 2 }, state: 'Add' });
    const raw = { status: 200, body: { total: 42, currency: 'EUR' } };
    const selected = applyResultSelector({ 'total.$': '$.body.total' }, raw);
    const merged = applyResultPath(input, selected, '$.order.price');
    expect(applyOutputPath(merged, '$.order')).toEqual({ id: 'o1', lines: [{ sku: 'a', qty: 2 }], price: { total: 42 } });
  });
});
