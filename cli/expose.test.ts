import type { KubeObject } from '../messages';
import { parseSelectorMap, serviceFor } from './expose';

const deploy = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'a' } },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }] }] } },
  },
} as unknown as KubeObject;
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } as unknown as KubeObject;

describe('mk expose', () => {
  it('builds a service from a deployment\'s selector and container ports, as kubectl expose does', () => {
    expect(serviceFor('deployments', deploy, {})).toEqual({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { team: 'a' } },
      spec: {
        selector: { app: 'web' },
        ports: [{ name: 'port-1', port: 8080, protocol: 'TCP', targetPort: 8080 }, { name: 'port-2', port: 53, protocol: 'UDP', targetPort: 53 }],
      },
    });
    const one = serviceFor('deployments', deploy, { port: 80, targetPort: '8080', type: 'NodePort', name: 'web-np' });
    expect(one.metadata.name).toBe('web-np');
    expect(one.spec).toEqual({ selector: { app: 'web' }, type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] });
    expect((serviceFor('deployments', deploy, { port: 80, targetPort: 'http' }).spec as { ports: { targetPort: unknown }[] }).ports[0].targetPort).toBe('http');
  });

  it('takes a pod\'s labels and a service\'s selector and ports', () => {
    expect(serviceFor('pods', pod, { port: 5432, clusterIP: 'None' }).spec).toEqual({ selector: { app: 'db' }, clusterIP: 'None', ports: [{ port: 5432, protocol: 'TCP', targetPort: 5432 }] });
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 's' }, ports: [{ port: 80, targetPort: 9090, protocol: 'TCP' }] } } as unknown as KubeObject;
    expect(serviceFor('services', svc, { name: 's2' }).spec).toEqual({ selector: { app: 's' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 9090 }] });
    expect(serviceFor('pods', pod, { port: 1, selector: 'tier=db,app=x' }).spec).toMatchObject({ selector: { tier: 'db', app: 'x' } });
  });

  it('refuses what kubectl refuses, naming the problem', () => {
    expect(() => serviceFor('pods', pod, {})).toThrow('couldn\'t find port via --port flag or introspection');
    expect(() => serviceFor('pods', { ...pod, metadata: { name: 'bare' } } as KubeObject, { port: 80 })).toThrow('couldn\'t retrieve selectors via --selector flag or introspection');
    expect(() => serviceFor('pods', pod, { port: 70000 })).toThrow('--port 70000: must be between 1 and 65535, inclusive');
    expect(() => serviceFor('pods', pod, { port: 80, type: 'Magic' })).toThrow('--type "Magic"');
    expect(() => serviceFor('pods', pod, { port: 80, protocol: 'ICMP' })).toThrow('--protocol "ICMP"');
    expect(() => serviceFor('pods', pod, { port: 80, targetPort: '0' })).toThrow('--target-port 0');
    expect(() => parseSelectorMap('app in (a,b)')).toThrow('only equality selectors');
    const expr = { ...deploy, spec: { ...(deploy.spec as object), selector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } } } as KubeObject;
    expect(() => serviceFor('deployments', expr, { port: 80 })).toThrow('matchExpressions');
  });
});
