import { normalizeBooleanFlags } from '../../../cli/base-command';
import { formatError } from '../../../cli/errors';
import { parseTargets } from '../../../cli/kinds';
import { asList, renderStructured, toNames, toYaml } from '../../../cli/output/format';
import { NotFoundError, resolveKind, UnavailableError, ValidationError, type KubeObject } from '../../../messages';

describe('formatError', () => {
  it('words server answers like kubectl and everything else as error:', () => {
    expect(formatError(new NotFoundError('pods "x" not found'))).toBe('Error from server (NotFound): pods "x" not found');
    expect(formatError(new UnavailableError('cannot reach the bus at nats://127.0.0.1:4222: x (is the cluster up? run `mk up`)')))
      .toBe('error: cannot reach the bus at nats://127.0.0.1:4222: x (is the cluster up? run `mk up`)');
    expect(formatError(new ValidationError('Pod "a" is invalid: spec: bad'))).toBe('error: Pod "a" is invalid: spec: bad');
    expect(formatError(new Error('Nonexistent flag: --x\nSee more help with --help'))).toBe('error: Nonexistent flag: --x');
  });
});

describe('parseTargets', () => {
  it('accepts KIND NAME... and KIND/NAME forms', () => {
    expect(parseTargets('po', ['a', 'b'])).toMatchObject({ kind: { plural: 'pods' }, names: ['a', 'b'] });
    expect(parseTargets('pod/a', ['pods/b'])).toMatchObject({ kind: { plural: 'pods' }, names: ['a', 'b'] });
    expect(() => parseTargets('widgets', [])).toThrow('the server doesn\'t have a resource type "widgets"');
    expect(() => parseTargets('pods', ['pod/a'])).toThrow(/no need to specify a resource type/);
    expect(() => parseTargets('pod/a', ['node/b'])).toThrow(/one kind/);
  });
});

describe('structured output', () => {
  const a: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } };
  const b: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } };

  it('prints one named object alone and several as a v1 List', () => {
    expect(JSON.parse(renderStructured('json', [a], true))).toEqual(a);
    expect(JSON.parse(renderStructured('json', [a, b], false))).toEqual({ apiVersion: 'v1', kind: 'List', items: [a, b], metadata: { resourceVersion: '' } });
    expect(renderStructured('json', [a], true)).toBe('{\n    "apiVersion": "v1",\n    "kind": "Pod",\n    "metadata": {\n        "name": "a"\n    }\n}\n');
  });

  it('prints YAML with kubectl\'s unindented sequences', () => {
    expect(toYaml(asList([a]))).toBe('apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\nkind: List\nmetadata:\n  resourceVersion: \'\'\n');
  });

  it('prints kind/name', () => {
    expect(toNames(resolveKind('pods')!, [a, b])).toBe('pod/a\npod/b\n');
  });
});

describe('normalizeBooleanFlags', () => {
  const flags = { wait: { type: 'boolean', allowNo: true }, force: { type: 'boolean' }, output: { type: 'option' } };

  it('turns kubectl\'s --flag=true|false into the forms oclif takes', () => {
    expect(normalizeBooleanFlags(['pod', 'x', '--wait=false', '--force=true', '-o=json', '--output=yaml'], flags))
      .toEqual(['pod', 'x', '--no-wait', '--force', '-o=json', '--output=yaml']);
    expect(normalizeBooleanFlags(['--force=false', '--wait=true'], flags)).toEqual(['--wait']);
  });

  it('leaves everything after -- alone', () => {
    expect(normalizeBooleanFlags(['demo', '--', 'cmd', '--wait=false'], flags)).toEqual(['demo', '--', 'cmd', '--wait=false']);
  });
});
