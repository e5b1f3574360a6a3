import type { Trigger } from '../../messages';
import { httpTriggerRoutes } from './triggers';

const trig = (name: string, created: string, source: Trigger['spec']['source'], namespace = 'default'): Trigger => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name, namespace, creationTimestamp: created }, spec: { target: { function: 'f' }, source },
});

describe('HTTP trigger routes on the gateway', () => {
  it('routes each path to its trigger with its methods (POST when none), the older trigger when two name one path; no other source', () => {
    const routes = httpTriggerRoutes([
      trig('newer', '2026-01-02T00:00:00Z', { http: { path: '/hooks/a', methods: ['PUT'] } }),
      trig('older', '2026-01-01T00:00:00Z', { http: { path: '/hooks/a', methods: ['GET', 'POST'] } }, 'shop'),
      trig('plain', '2026-01-01T00:00:00Z', { http: { path: '/hooks/b' } }),
      trig('sub', '2026-01-01T00:00:00Z', { subject: { subject: 'orders.new' } }),
    ]);
    expect(Object.fromEntries(routes)).toEqual({
      '/hooks/a': { namespace: 'shop', name: 'older', methods: ['GET', 'POST'] },
      '/hooks/b': { namespace: 'default', name: 'plain', methods: ['POST'] },
    });
  });
});
