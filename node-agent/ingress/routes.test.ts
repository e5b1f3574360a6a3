import type { Ingress } from '../../messages/ingress';
import { RouteTable } from './routes';

type P = { path: string; type: 'Exact' | 'Prefix' | 'ImplementationSpecific'; to?: string };
const ingress = (name: string, rules: { host?: string; paths: P[] }[], extra: Partial<Ingress['spec']> = {}, created = '2026-01-01T00:00:00Z'): Ingress => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: {
    ...extra,
    rules: rules.map((r) => ({
      ...(r.host ? { host: r.host } : {}),
      http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.type, backend: { service: { name: p.to ?? `svc${p.path.replace(/\//g, '-')}`, port: { number: 80 } } } })) },
    })),
  },
});
const target = (t: RouteTable, path: string, host = 'example.com') => t.match(host, path)?.service;

/** https://kubernetes.io/docs/concepts/services-networking/ingress/#examples: the matching table. */
describe('path matching as the Kubernetes docs\' examples table says', () => {
  it.each<[string, P[], string, boolean]>([
    ['Prefix /', [{ path: '/', type: 'Prefix' }], '/anything/at/all', true],
    ['Exact /foo, request /foo', [{ path: '/foo', type: 'Exact' }], '/foo', true],
    ['Exact /foo, request /bar', [{ path: '/foo', type: 'Exact' }], '/bar', false],
    ['Exact /foo, request /foo/', [{ path: '/foo', type: 'Exact' }], '/foo/', false],
    ['Exact /foo/, request /foo', [{ path: '/foo/', type: 'Exact' }], '/foo', false],
    ['Prefix /foo, request /foo', [{ path: '/foo', type: 'Prefix' }], '/foo', true],
    ['Prefix /foo, request /foo/', [{ path: '/foo', type: 'Prefix' }], '/foo/', true],
    ['Prefix /foo/, request /foo', [{ path: '/foo/', type: 'Prefix' }], '/foo', true],
    ['Prefix /foo/, request /foo/', [{ path: '/foo/', type: 'Prefix' }], '/foo/', true],
    ['Prefix /aaa/bb, request /aaa/bbb', [{ path: '/aaa/bb', type: 'Prefix' }], '/aaa/bbb', false],
    ['Prefix /aaa/bbb, request /aaa/bbb', [{ path: '/aaa/bbb', type: 'Prefix' }], '/aaa/bbb', true],
    ['Prefix /aaa/bbb/, request /aaa/bbb (trailing slash ignored)', [{ path: '/aaa/bbb/', type: 'Prefix' }], '/aaa/bbb', true],
    ['Prefix /aaa/bbb, request /aaa/bbb/ (trailing slash matched)', [{ path: '/aaa/bbb', type: 'Prefix' }], '/aaa/bbb/', true],
    ['Prefix /aaa/bbb, request /aaa/bbb/ccc (subpath)', [{ path: '/aaa/bbb', type: 'Prefix' }], '/aaa/bbb/ccc', true],
    ['Prefix /aaa/bbb, request /aaa/bbbxyz (no string prefix)', [{ path: '/aaa/bbb', type: 'Prefix' }], '/aaa/bbbxyz', false],
    ['Prefix /aaa, request /ccc', [{ path: '/aaa', type: 'Prefix' }], '/ccc', false],
    ['ImplementationSpecific /foo as Prefix', [{ path: '/foo', type: 'ImplementationSpecific' }], '/foo/bar', true],
  ])('%s', (_name, paths, request, matches) => {
    const t = new RouteTable([ingress('a', [{ paths }])]);
    expect(target(t, request) !== undefined).toBe(matches);
  });

  it.each<[P[], string, string]>([
    [[{ path: '/', type: 'Prefix', to: 'root' }, { path: '/aaa', type: 'Prefix', to: 'aaa' }], '/aaa/ccc', 'aaa'],
    [[{ path: '/', type: 'Prefix', to: 'root' }, { path: '/aaa', type: 'Prefix', to: 'aaa' }, { path: '/aaa/bbb', type: 'Prefix', to: 'bbb' }], '/aaa/bbb', 'bbb'],
    [[{ path: '/', type: 'Prefix', to: 'root' }, { path: '/aaa', type: 'Prefix', to: 'aaa' }, { path: '/aaa/bbb', type: 'Prefix', to: 'bbb' }], '/ccc', 'root'],
    [[{ path: '/foo', type: 'Prefix', to: 'prefix' }, { path: '/foo', type: 'Exact', to: 'exact' }], '/foo', 'exact'],
    [[{ path: '/foo', type: 'Exact', to: 'exact' }, { path: '/foo', type: 'Prefix', to: 'prefix' }], '/foo/x', 'prefix'],
  ])('the longest match wins, Exact before Prefix: %j for %s -> %s', (paths, request, want) => {
    expect(target(new RouteTable([ingress('a', [{ paths }])]), request)).toBe(want);
  });

  it('ignores the query string', () => {
    const t = new RouteTable([ingress('a', [{ paths: [{ path: '/foo', type: 'Exact', to: 'x' }] }])]);
    expect(target(t, '/foo?a=b')).toBe('x');
  });
});

describe('hosts', () => {
  const t = new RouteTable([ingress('a', [
    { host: 'foo.bar.com', paths: [{ path: '/', type: 'Prefix', to: 'exact-host' }] },
    { host: '*.bar.com', paths: [{ path: '/', type: 'Prefix', to: 'wildcard' }, { path: '/only-wild', type: 'Prefix', to: 'wild-path' }] },
    { paths: [{ path: '/', type: 'Prefix', to: 'any' }] },
  ])]);

  it('prefers an exact host to a wildcard, and a wildcard to no host', () => {
    expect(target(t, '/', 'foo.bar.com')).toBe('exact-host');
    expect(target(t, '/', 'FOO.bar.com:8080')).toBe('exact-host');
    expect(target(t, '/', 'baz.bar.com')).toBe('wildcard');
    expect(target(t, '/', 'other.com')).toBe('any');
    expect(target(t, '/', undefined)).toBe('any');
  });

  it('matches a wildcard on exactly one leading label', () => {
    expect(target(t, '/', 'bar.com')).toBe('any');
    expect(target(t, '/', 'a.baz.bar.com')).toBe('any');
  });

  it('keeps a request within its host\'s rules: a path they lack goes to the default backend', () => {
    const narrow = new RouteTable([ingress('a', [
      { host: 'foo.bar.com', paths: [{ path: '/api', type: 'Prefix', to: 'api' }] },
      { host: '*.bar.com', paths: [{ path: '/', type: 'Prefix', to: 'wildcard' }, { path: '/admin', type: 'Prefix', to: 'wild-admin' }] },
      { paths: [{ path: '/', type: 'Prefix', to: 'any' }] },
    ], { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } })]);
    expect(target(narrow, '/api/v1', 'foo.bar.com')).toBe('api');
    expect(target(narrow, '/web', 'foo.bar.com')).toBe('fallback');
    expect(target(narrow, '/admin', 'baz.bar.com')).toBe('wild-admin');
    expect(new RouteTable([ingress('b', [
      { host: 'foo.bar.com', paths: [{ path: '/api', type: 'Exact', to: 'api' }] },
      { paths: [{ path: '/', type: 'Prefix', to: 'any' }] },
    ])]).match('foo.bar.com', '/web')).toBeUndefined();
  });
});

describe('default backends and several Ingresses', () => {
  it('sends what matches no rule to the default backend, else nowhere (404)', () => {
    const withDefault = ingress('a', [{ paths: [{ path: '/api', type: 'Prefix', to: 'api' }] }], { defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } } });
    const t = new RouteTable([withDefault]);
    expect(target(t, '/api')).toBe('api');
    expect(t.match('x', '/other')).toEqual({ namespace: 'default', service: 'fallback', port: { name: 'http' }, ingress: 'default/a' });
    expect(new RouteTable([ingress('b', [{ paths: [{ path: '/api', type: 'Prefix' }] }])]).match('x', '/other')).toBeUndefined();
  });

  it('merges the rules of every Ingress; the oldest wins a tie', () => {
    const older = ingress('z-old', [{ host: 'a.com', paths: [{ path: '/', type: 'Prefix', to: 'old' }] }], {}, '2026-01-01T00:00:00Z');
    const newer = ingress('a-new', [
      { host: 'a.com', paths: [{ path: '/', type: 'Prefix', to: 'new' }, { path: '/x', type: 'Prefix', to: 'x' }] },
      { host: 'b.com', paths: [{ path: '/', type: 'Prefix', to: 'b' }] },
    ], {}, '2026-01-02T00:00:00Z');
    const t = new RouteTable([newer, older]);
    expect(target(t, '/', 'a.com')).toBe('old');
    expect(target(t, '/x/y', 'a.com')).toBe('x');
    expect(target(t, '/', 'b.com')).toBe('b');
    expect(target(t, '/', 'c.com')).toBeUndefined();
  });

  it('leaves out Ingresses being deleted', () => {
    const gone = ingress('a', [{ paths: [{ path: '/', type: 'Prefix' }] }]);
    gone.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(new RouteTable([gone]).match('x', '/')).toBeUndefined();
  });
});
