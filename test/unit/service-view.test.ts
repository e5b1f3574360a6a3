/**
 * The Service kind's type is what a node's service network reads
 * (node-agent/service-network/types.ts ServiceView): a stored Service must be usable as one, which
 * the compiler checks here; the test asserts a defaulted, allocated service reads as expected.
 */
import { defaultService, validateManifest, type Service } from '../../messages';
import type { ServiceView } from '../../node-agent/service-network/types';

it('reads a stored Service as the node\'s ServiceView', () => {
  const { object } = validateManifest({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }] },
  });
  const svc: Service = defaultService(object as unknown as Service);
  const view: ServiceView = svc;
  expect(view.spec.clusterIPs).toEqual(['10.96.0.10']);
  expect(view.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080 }]);
  expect(view.spec.sessionAffinity).toBe('None');
});
