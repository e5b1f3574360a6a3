import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { IngressKind } from './kinds/ingress';
import { validateManifest } from './manifest';

const ing = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec });
const svc = (name = 'web', port: Record<string, unknown> = { number: 80 }) => ({ service: { name, port } });
const rule = (path: unknown, pathType: unknown, backend: unknown = svc(), host?: string) => ({
  ...(host !== undefined ? { host } : {}), http: { paths: [{ path, pathType, backend }] },
});

describe('Ingress manifests', () => {
  it('accepts the Kubernetes docs\' Ingresses as written', () => {
    const doc = ing({
      ingressClassName: 'nginx-example',
      defaultBackend: svc('fallback', { name: 'http' }),
      tls: [{ hosts: ['https-example.foo.com'], secretName: 'testsecret-tls' }],
      rules: [
        rule('/testpath', 'Prefix', svc('test'), 'foo.bar.com'),
        rule('/', 'ImplementationSpecific', svc('wild'), '*.foo.com'),
        { http: { paths: [{ path: '/exact', pathType: 'Exact', backend: svc() }, { pathType: 'ImplementationSpecific', backend: svc() }] } },
      ],
    });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it('accepts examples/ingress.yaml', () => {
    const doc = load(fs.readFileSync(path.join(__dirname, '..', 'examples', 'ingress.yaml'), 'utf8')) as unknown;
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it.each([
    ['a Prefix path without /', [rule('foo', 'Prefix')], /spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "foo": must be an absolute path/],
    ['an Exact path with //', [rule('/a//b', 'Exact')], /paths\[0\]\.path: Invalid value: "\/a\/\/b": must not contain '\/\/'/],
    ['a path ending in /..', [rule('/a/..', 'Prefix')], /cannot end with '\/\.\.'/],
    ['a missing pathType', [rule('/', undefined)], /paths\[0\]\.pathType: Required value: pathType must be specified/],
    ['a bad pathType', [rule('/', 'Regex')], /pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"/],
    ['a backend with no port', [rule('/', 'Prefix', { service: { name: 'web' } })], /backend\.service\.port: Required value: port name or number is required/],
    ['a backend with both ports', [rule('/', 'Prefix', svc('web', { name: 'http', number: 80 }))], /cannot set both port name & port number/],
    ['a port out of range', [rule('/', 'Prefix', svc('web', { number: 70000 }))], /port\.number: Invalid value: 70000/],
    ['a backend with no service', [rule('/', 'Prefix', {})], /backend\.service: Required value/],
    ['a bad service name', [rule('/', 'Prefix', svc('Web_1'))], /service\.name: Invalid value: "Web_1"/],
    ['an IP as host', [rule('/', 'Prefix', svc(), '10.0.0.1')], /rules\[0\]\.host: Invalid value: "10\.0\.0\.1": must be a DNS name, not an IP address/],
    ['a wildcard in the middle', [rule('/', 'Prefix', svc(), 'foo.*.com')], /rules\[0\]\.host: Invalid value: "foo\.\*\.com"/],
  ])('refuses %s, naming it', (_what, rules, message) => {
    expect(() => validateManifest(ing({ rules }))).toThrow(message);
  });

  it('refuses an Ingress with neither rules nor a default backend, and unknown fields', () => {
    expect(() => validateManifest(ing({}))).toThrow(/either `defaultBackend` or `rules` must be specified/);
    expect(() => validateManifest(ing({ defaultBackend: svc(), backend: svc() }))).toThrow(/backend/);
  });

  it('prints kubectl\'s columns: HOSTS * without hosts, PORTS 80, 443 with TLS, ADDRESS from the status', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const cells = (o: unknown) => IngressKind.columns.map((c) => c.value(o as never, now));
    const plain = { ...ing({ defaultBackend: svc() }), metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' } };
    expect(cells(plain)).toEqual(['web', '<none>', '*', '', '80', '10m']);
    const full = {
      ...plain,
      spec: { ingressClassName: 'mk', tls: [{ hosts: ['a.com'] }], rules: [rule('/', 'Prefix', svc(), 'a.com'), rule('/', 'Prefix', svc(), 'b.com')] },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] } },
    };
    expect(cells(full)).toEqual(['web', 'mk', 'a.com,b.com', '10.0.0.1,10.0.0.2', '80, 443', '10m']);
  });
});
