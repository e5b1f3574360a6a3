import { matchesFields, parseFieldSelector } from './field-selectors';
import { EventKind } from './kinds/event';
import { NamespaceKind, NodeKind } from './kinds/node';
import { PodKind } from './kinds/pod';
import type { KubeObject } from './meta';
import { labelKeyError, matches, parseSelector } from './selectors';

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', 'mk.io/role': 'x' };
  it.each([
    ['app=web', true], ['app==web', true], ['app!=web', false], ['app', true], ['!gpu', true], ['!app', false],
    ['tier in (front,back)', true], ['tier in (back)', false], ['tier notin (front)', false], ['gpu notin (a)', true],
    ['app=web,tier=back', false], ['app = web , tier in ( front )', true], ['', true], ['mk.io/role=x', true],
    ['app in (web),!gpu,tier', true], ['missing=', false], ['app!=', true],
  ])('%s -> %s', (sel, want) => expect(matches(parseSelector(sel), l)).toBe(want));

  it('parses each operator into a requirement', () => {
    expect(parseSelector('a=1,b!=2,c in (x, y),d notin (z),e,!f')).toEqual([
      { key: 'a', op: 'eq', value: '1' }, { key: 'b', op: 'neq', value: '2' },
      { key: 'c', op: 'in', values: ['x', 'y'] }, { key: 'd', op: 'notin', values: ['z'] },
      { key: 'e', op: 'exists' }, { key: 'f', op: 'notexists' },
    ]);
  });

  it.each([
    ['env in (a,b', /unbalanced parentheses: a "\(" is never closed/],
    ['env in a,b)', /unbalanced parentheses: a "\)" without its "\("/],
    ['=x', /label key is empty before "="/],
    ['app=web,=x', /label key is empty/],
    ['app=web,', /missing after the last ","/],
    ['Bad_Key!', /unexpected|invalid label key/],
    ['-app=x', /invalid label key "-app"/],
    ['UPPER.Prefix/name=x', /prefix of label key "UPPER.Prefix\/name" must be a DNS subdomain/],
    ['env in a', /"in" needs a parenthesized list of values, as in "env in \(a,b\)"/],
    ['env notin x', /"notin" needs a parenthesized list/],
    ['env in ()', /needs at least one value/],
    ['app=we b', /expected "," between requirements, found "b"/],
    ['app=-x', /invalid label value "-x"/],
    ['a b', /unexpected "b" after label key "a"/],
    [`${'k'.repeat(64)}=v`, /1 to 63 characters/],
  ])('refuses %j', (sel, why) => {
    expect(() => parseSelector(sel)).toThrow(why);
    expect(() => parseSelector(sel)).toThrow(/^invalid label selector/);
  });

  it('checks keys as Kubernetes does', () => {
    expect(labelKeyError('app.kubernetes.io/name')).toBeUndefined();
    expect(labelKeyError('a/b/c')).toMatch(/prefix/);
    expect(labelKeyError('')).toMatch(/empty/);
  });
});

describe('field selectors', () => {
  const pod = (name: string, ns: string, node: string | undefined, phase: string): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: node, containers: [] }, status: { phase },
  });
  const a = pod('a', 'default', 'n1', 'Running');
  const b = pod('b', 'other', undefined, 'Pending');
  const sel = (s: string) => [a, b].filter((o) => matchesFields(PodKind, parseFieldSelector(PodKind, s), o)).map((o) => o.metadata.name);

  it.each([
    ['metadata.name=a', ['a']], ['metadata.name==a', ['a']], ['metadata.name!=a', ['b']],
    ['metadata.namespace=other', ['b']], ['spec.nodeName=n1', ['a']], ['spec.nodeName=', ['b']], ['spec.nodeName!=', ['a']],
    ['status.phase=Running', ['a']], ['status.phase!=Running,metadata.namespace=other', ['b']], ['', ['a', 'b']],
    [' status.phase = Pending ', ['b']],
  ])('%j selects %j', (s, want) => expect(sel(s)).toEqual(want));

  it('says which field is not supported, as Kubernetes does', () => {
    expect(() => parseFieldSelector(PodKind, 'spec.foo=x')).toThrow('field label not supported: spec.foo');
    expect(() => parseFieldSelector(NodeKind, 'status.phase=x')).toThrow('field label not supported: status.phase');
    expect(() => parseFieldSelector(EventKind, 'spec.nodeName=x')).toThrow('field label not supported: spec.nodeName');
    expect(parseFieldSelector(NamespaceKind, 'status.phase=Terminating')).toEqual([{ field: 'status.phase', op: 'eq', value: 'Terminating' }]);
  });

  it.each([
    ['metadata.name'], ['metadata.name~a'], ['a=b,,c=d'], ['metadata.name=a,'], ['metadata.name=a=b'], ['=a'],
  ])('refuses the malformed %j', (s) => expect(() => parseFieldSelector(PodKind, s)).toThrow(/invalid field selector|field label not supported/));
});
