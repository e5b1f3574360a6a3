import { isForbidden } from '../../messages';
import { gatewayList, type ApiContext } from './handlers';

/** A context whose store must never be read: every list asked for here is refused first. */
const untouched = new Proxy({}, { get: () => { throw new Error('the store was read'); } }) as unknown as ApiContext;

describe('mk.api.gateway.list', () => {
  it('refuses every list but functions, triggers and pods by the mk.io/function label, before reading anything', async () => {
    for (const req of [
      { kind: 'secrets' }, { kind: 'configmaps' }, { kind: 'pods' }, { kind: 'pods', labelSelector: 'app=web' },
      { kind: 'pods', labelSelector: 'mk.io/function,app=web' }, { kind: 'pods', labelSelector: 'mk.io/function', fieldSelector: 'spec.nodeName=n1' },
      { kind: 'functions', labelSelector: 'a=b' }, { kind: 'triggers', labelSelector: 'a=b' }, { kind: 'triggers', fieldSelector: 'metadata.name=x' },
      { kind: 'workflowruns' },
    ]) {
      const err = await gatewayList(untouched, req).then(() => undefined, (e: unknown) => e);
      expect(isForbidden(err)).toBe(true);
    }
    await expect(gatewayList(untouched, { kind: 'secrets' })).rejects.toThrow('a gateway may list only functions, HTTP triggers, and pods by the label mk.io/function: not secrets');
  });

  it('gives the HTTP triggers only, each cut to its name, uid and HTTP source', async () => {
    const meta = (name: string) => ({ name, namespace: 'default', uid: `u-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: 'b' } });
    const hook = { apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: meta('hook'), spec: { target: { function: 'f', input: { secret: 1 } }, source: { http: { path: '/hooks/x', methods: ['POST'] } } } };
    const sub = { apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: meta('sub'), spec: { target: { function: 'f' }, source: { subject: { subject: 'orders.new' } } } };
    const store = { list: async () => ({ items: [hook, sub].map((object, i) => ({ key: `triggers.default.${object.metadata.name}`, object, revision: i + 1 })), revision: 2 }) };
    const got = await gatewayList({ store } as unknown as ApiContext, { kind: 'triggers' });
    expect(got.items).toEqual([{
      apiVersion: 'mk.io/v1', kind: 'Trigger',
      metadata: { name: 'hook', namespace: 'default', uid: 'u-hook', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { source: { http: { path: '/hooks/x', methods: ['POST'] } } },
    }]);
  });
});
