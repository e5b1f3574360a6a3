import type { TriggerFilter } from '../../messages/trigger';
import { matchesFilters, type FilterInput } from './filters';

const order = {
  order: { id: 'A-17', total: 42, paid: true, note: null, customer: { tier: 'gold', tags: ['vip', 'eu'] } },
  items: [{ sku: 'A1', qty: 2 }, { sku: 'B7', qty: 1 }],
  'x-y': 'dashed',
};
const msg: FilterInput = {
  headers: { 'Content-Type': 'application/json', 'X-Tenant': 'acme', 'X-Tag': ['blue', 'green'] },
  body: JSON.stringify(order),
};

describe('subject trigger filters', () => {
  it.each([
    // [what, filter, holds on msg]
    ['header equals', { header: 'X-Tenant', equals: 'acme' }, true],
    ['header equals, another value', { header: 'X-Tenant', equals: 'other' }, false],
    ['header names ignore case', { header: 'x-tenant', equals: 'acme' }, true],
    ['header values keep case', { header: 'X-Tenant', equals: 'ACME' }, false],
    ['a header with several values: any one', { header: 'X-Tag', equals: 'green' }, true],
    ['header matches', { header: 'content-type', matches: '^application/(json|yaml)$' }, true],
    ['header matches finds inside', { header: 'content-type', matches: 'json' }, true],
    ['header matches, no match', { header: 'content-type', matches: '^text/' }, false],
    ['header present', { header: 'X-Tenant', present: true }, true],
    ['header present, absent', { header: 'X-Missing', present: true }, false],
    ['header not present', { header: 'X-Missing', present: false }, true],
    ['header not present, there', { header: 'X-Tenant', present: false }, false],
    ['field equals a string', { field: '$.order.id', equals: 'A-17' }, true],
    ['field equals a number as a number', { field: '$.order.total', equals: 42 }, true],
    ['field equals: text is not a number', { field: '$.order.total', equals: '42' }, false],
    ['field equals a boolean', { field: '$.order.paid', equals: true }, true],
    ['field equals null', { field: '$.order.note', equals: null }, true],
    ['field equals an object, deeply', { field: '$.order.customer', equals: { tier: 'gold', tags: ['vip', 'eu'] } }, true],
    ['field equals an object, another order of arrays', { field: '$.order.customer.tags', equals: ['eu', 'vip'] }, false],
    ['nested field', { field: '$.order.customer.tier', equals: 'gold' }, true],
    ['array index', { field: '$.items[1].sku', equals: 'B7' }, true],
    ['wildcard: any selected value', { field: '$.items[*].sku', equals: 'B7' }, true],
    ['recursive descent', { field: '$..qty', equals: 2 }, true],
    ['quoted name', { field: "$['x-y']", equals: 'dashed' }, true],
    ['field matches a string', { field: '$.order.id', matches: '^A-\\d+$' }, true],
    ['field matches a number as its JSON text', { field: '$.order.total', matches: '^4\\d$' }, true],
    ['field matches: an object never matches', { field: '$.order.customer', matches: 'gold' }, false],
    ['field matches: null never matches', { field: '$.order.note', matches: 'null' }, false],
    ['field present', { field: '$.order.customer.tier', present: true }, true],
    ['field present, even when null', { field: '$.order.note', present: true }, true],
    ['field present, absent', { field: '$.order.missing', present: true }, false],
    ['field not present', { field: '$.order.missing.deeper', present: false }, true],
    ['field not present, there', { field: '$.order.id', present: false }, false],
  ] as [string, TriggerFilter, boolean][])('%s', (_what, filter, want) => {
    expect(matchesFilters([filter], msg)).toBe(want);
  });

  it('every filter must hold; none at all passes every message', () => {
    const tenant: TriggerFilter = { header: 'X-Tenant', equals: 'acme' };
    const big: TriggerFilter = { field: '$.order.total', equals: 42 };
    expect(matchesFilters([tenant, big], msg)).toBe(true);
    expect(matchesFilters([tenant, { ...big, equals: 43 }], msg)).toBe(false);
    expect(matchesFilters([], { body: 'not json' })).toBe(true);
    expect(matchesFilters(undefined, {})).toBe(true);
  });

  it.each([
    ['text', 'total=42'],
    ['an empty body', ''],
    ['no body', undefined],
    ['broken JSON', '{"order": '],
  ])('a field filter on %s is false, whatever its operator; header filters still work', (_what, body) => {
    const m: FilterInput = { headers: { 'X-Tenant': 'acme' }, ...(body !== undefined ? { body } : {}) };
    expect(matchesFilters([{ field: '$.order', present: true }], m)).toBe(false);
    expect(matchesFilters([{ field: '$.order', present: false }], m)).toBe(false);
    expect(matchesFilters([{ field: '$', matches: '.' }], m)).toBe(false);
    expect(matchesFilters([{ header: 'X-Tenant', equals: 'acme' }], m)).toBe(true);
  });

  it('reads a body of bytes, and JSON that is not an object', () => {
    expect(matchesFilters([{ field: '$.a', equals: 1 }], { body: new TextEncoder().encode('{"a":1}') })).toBe(true);
    expect(matchesFilters([{ field: '$', equals: 7 }], { body: '7' })).toBe(true);
    expect(matchesFilters([{ field: '$', equals: null }], { body: 'null' })).toBe(true);
    expect(matchesFilters([{ field: '$.a', present: false }], { body: 'null' })).toBe(true);
    expect(matchesFilters([{ field: '$[0]', equals: 'x' }], { body: '["x"]' })).toBe(true);
  });

  it('never reaches into prototypes', () => {
    expect(matchesFilters([{ field: '$.constructor', present: true }], { body: '{}' })).toBe(false);
    expect(matchesFilters([{ field: '$.__proto__', present: true }], { body: '{}' })).toBe(false);
  });
});
