import { parseStoredIngress } from './parse';
import { RouteTable } from './routes';
import type { Ingress } from '../../messages/ingress';

const good = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
  spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }] },
};

describe('parseStoredIngress', () => {
  it('takes a valid Ingress as it is', () => {
    expect(parseStoredIngress(good)).toEqual({ ok: true, value: good });
  });

  it.each<[unknown, string]>([
    ['text', 'the object is not an object'],
    [{ spec: {} }, 'metadata is not an object'],
    [{ metadata: { name: 7 } }, 'metadata.name is not a non-empty string'],
    [{ metadata: { name: 'x', creationTimestamp: 5 } }, 'metadata.creationTimestamp is not a string'],
    [{ metadata: { name: 'x' }, spec: { rules: 'all' } }, 'spec.rules is not a list'],
    [{ metadata: { name: 'x' }, spec: { rules: [{ host: 1 }] } }, 'spec.rules[0].host is not a string'],
    [{ metadata: { name: 'x' }, spec: { rules: [{ http: { paths: [null] } }] } }, 'spec.rules[0].http.paths[0] is not an object'],
    [{ metadata: { name: 'x' }, spec: { rules: [{ http: { paths: [{ path: ['/'] }] } }] } }, 'spec.rules[0].http.paths[0].path is not a string'],
    [{ metadata: { name: 'x' }, spec: { defaultBackend: { service: { name: 's', port: 80 } } } }, 'spec.defaultBackend.service.port is not an object'],
  ])('refuses %j, saying what is wrong', (raw, error) => {
    expect(parseStoredIngress(raw)).toEqual({ ok: false, error });
  });

  it('lets nothing through that makes the route table throw', () => {
    const samples: unknown[] = [good, { metadata: { name: 'x' } }, { metadata: { name: 'x' }, spec: null }, { metadata: { name: 'x' }, spec: { rules: [{}] } }];
    for (const s of samples) {
      const r = parseStoredIngress(s);
      expect(r.ok).toBe(true);
      if (r.ok) expect(() => new RouteTable([r.value as Ingress]).match('a.com', '/')).not.toThrow();
    }
  });
});
