/**
 * The EndpointSlices the endpoints controller writes are what a node's service network reads
 * (node-agent/service-network/types.ts): the stored type is assignable to the view (checked by
 * the compiler, `npm run typecheck`), and a slice made for a service reads back through the view
 * with its service, addresses, conditions and ports.
 */
import { reconcileSlices, type Service } from '../../actors/endpoints';
import type { EndpointSlice, Pod } from '../../messages';
import { SERVICE_NAME_LABEL, type EndpointSliceView } from '../../node-agent/service-network/types';

const svc: Service = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'default', uid: 'u' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
};
const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'p1', labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Running', podIP: '10.244.0.7', conditions: [{ type: 'Ready', status: 'True' }] },
} as Pod;

it('a slice the controller makes reads as the view the nodes act on', () => {
  const [slice] = reconcileSlices(svc, [pod], [], () => 'web-abcde').create;
  const view: EndpointSliceView = slice satisfies EndpointSlice;
  expect(view.metadata.labels?.[SERVICE_NAME_LABEL]).toBe('web');
  expect(view.addressType).toBe('IPv4');
  expect(view.endpoints).toEqual([expect.objectContaining({
    addresses: ['10.244.0.7'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1',
  })]);
  expect(view.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
});
