import { renderObjects } from '../../../cli/output/tables';
import { resolveKind, type Endpoints, type EndpointSlice, type KubeObject } from '../../../messages';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const created = new Date(NOW - 65_000).toISOString();
const ip = (i: number) => ({ ip: `10.244.${i}.5` });

it('mk get endpoints prints NAME ENDPOINTS AGE, three ready ip:port pairs at most', () => {
  const web: Endpoints = {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', creationTimestamp: created },
    subsets: [{ addresses: [1, 2, 3, 4, 5].map(ip), notReadyAddresses: [ip(9)], ports: [{ name: 'http', port: 80 }] }],
  };
  const empty: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'empty', namespace: 'default', creationTimestamp: created } };
  expect(renderObjects(resolveKind('ep')!, [web, empty] as unknown as KubeObject[], { now: NOW })).toBe(
    'NAME    ENDPOINTS                                               AGE\n'
    + 'web     10.244.1.5:80,10.244.2.5:80,10.244.3.5:80 + 2 more...   65s\n'
    + 'empty   <none>                                                  65s\n',
  );
});

it('mk get endpointslices prints NAME ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abcde', namespace: 'default', creationTimestamp: created },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
    endpoints: [1, 2].map((i) => ({ addresses: [`10.244.${i}.5`], conditions: { ready: true } })),
  };
  const placeholder: EndpointSlice = { ...slice, metadata: { ...slice.metadata, name: 'none-fghjk' }, ports: [], endpoints: [] };
  expect(renderObjects(resolveKind('endpointslices')!, [slice, placeholder] as unknown as KubeObject[], { now: NOW })).toBe(
    'NAME         ADDRESSTYPE   PORTS     ENDPOINTS               AGE\n'
    + 'web-abcde    IPv4          8080      10.244.1.5,10.244.2.5   65s\n'
    + 'none-fghjk   IPv4          <unset>   <unset>                 65s\n',
  );
});
