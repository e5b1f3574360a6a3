import { targetInput } from './input';

describe("a firing's input", () => {
  it.each([
    ['no input: the event as it is', {}, { a: 1 }, { a: 1 }],
    ['no input, a text event', {}, 'raw text', 'raw text'],
    ['Merge: the input over the event', { input: { mode: 'fast', a: 9 } }, { a: 1, b: 2 }, { a: 9, b: 2, mode: 'fast' }],
    ['Merge is shallow', { input: { cfg: { x: 1 } }, inputMode: 'Merge' }, { cfg: { y: 2 }, b: 2 }, { cfg: { x: 1 }, b: 2 }],
    ['Merge with an event that is not an object keeps it under event', { input: { mode: 'fast' } }, [1, 2], { event: [1, 2], mode: 'fast' }],
    ['Merge with no event', { input: { mode: 'fast' } }, null, { event: null, mode: 'fast' }],
    ['Replace: the input alone', { input: { mode: 'fast' }, inputMode: 'Replace' }, { a: 1 }, { mode: 'fast' }],
    ['Replace with any JSON', { input: 42, inputMode: 'Replace' }, { a: 1 }, 42],
  ] as const)('%s', (_what, target, event, want) => {
    expect(targetInput(target, event)).toEqual(want);
  });

  it('shares nothing with the trigger or the event', () => {
    const target = { input: { list: [1] } };
    const event = { nested: { n: 1 } };
    const out = targetInput(target, event) as { list: number[]; nested: { n: number } };
    out.list.push(2);
    out.nested.n = 2;
    expect(target.input.list).toEqual([1]);
    expect(event.nested.n).toBe(1);
  });
});
