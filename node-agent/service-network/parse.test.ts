import { parseEndpointSlice, parseService } from './parse';

describe('parseService', () => {
  it('keeps the fields the node acts on and takes the namespace from the key when absent', () => {
    const r = parseService({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', uid: 'u1', labels: { a: 'b' } },
      spec: {
        type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }],
        sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, externalTrafficPolicy: 'Local', somethingElse: 1,
      },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    }, 'default');
    expect(r).toEqual({
      ok: true,
      value: {
        metadata: { name: 'web', namespace: 'default', uid: 'u1' },
        spec: {
          type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }],
          sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, externalTrafficPolicy: 'Local',
        },
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
      },
    });
  });

  it.each([
    [null, 'the object is not an object'],
    [{ spec: {} }, 'metadata is not an object'],
    [{ metadata: { name: 'x' }, spec: { ports: [{ port: 70000 }] } }, 'spec.ports[0].port is not a port number'],
    [{ metadata: { name: 'x' }, spec: { ports: {} } }, 'spec.ports is not a list'],
    [{ metadata: { name: 'x' }, spec: { clusterIP: '10.96.0.300' } }, 'spec.clusterIP "10.96.0.300" is neither an IPv4 address nor None'],
    [{ metadata: { name: 'x' }, spec: { type: 'Magic' } }, 'spec.type is "Magic", not one of ClusterIP, NodePort, LoadBalancer, ExternalName'],
    [{ metadata: { name: 'x' }, spec: { externalIPs: ['a.b.c.d'] } }, 'spec.externalIPs[0] "a.b.c.d" is not an IPv4 address'],
    [{ metadata: { name: 'x\n-A INPUT -j DROP' }, spec: {} }, 'metadata.name "x\\n-A INPUT -j DROP" must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character'],
    [{ metadata: { name: 'x', namespace: 'A"b' }, spec: {} }, 'metadata.namespace "A\\"b" must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character'],
    [{ metadata: { name: 'x' }, spec: { ports: [{ name: 'h\rttp', port: 80 }] } }, 'spec.ports[0].name "h\\rttp" must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character'],
    [{ metadata: { name: 'x' }, spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: -1 } } } }, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds is not a whole number of seconds in 1..86400'],
  ])('refuses %j, saying what is wrong', (raw, error) => {
    expect(parseService(raw, 'default')).toEqual({ ok: false, error });
  });
});

describe('parseEndpointSlice', () => {
  it('keeps endpoints, conditions and ports', () => {
    const r = parseEndpointSlice({
      addressType: 'IPv4', metadata: { name: 'web-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    expect(r.ok && r.value).toEqual({
      metadata: { name: 'web-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  });

  it.each([
    [{ metadata: { name: 's' } }, 'addressType is missing'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: [] }] }, 'endpoints[0].addresses is empty'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['fe80::1'] }] }, 'endpoints[0].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['127.0.0.1'] }] }, 'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8)'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['10.0.0.1', '169.254.169.254'] }] }, 'endpoints[0].addresses[1]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16)'],
    [{ addressType: 'IPv6', metadata: { name: 's' }, endpoints: [{ addresses: ['::1'] }] }, 'endpoints[0].addresses[0]: Invalid value: "::1": may not be in the loopback range (::1/128)'],
    [{ addressType: 'IPv6', metadata: { name: 's' }, endpoints: [{ addresses: ['example.com'] }] }, 'endpoints[0].addresses[0]: Invalid value: "example.com": must be a valid IPv6 address'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'yes' } }] }, 'endpoints[0].conditions.ready is not a boolean'],
    [{ addressType: 'IPv4', metadata: { name: 's', labels: { a: 1 } } }, 'metadata.labels.a is not a string'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, ports: [{ port: 0 }] }, 'ports[0].port is not a port number'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, ports: [{ name: 'a\nb', port: 80 }] }, 'ports[0].name "a\\nb" must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character'],
    [{ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'n 1' }] }, 'endpoints[0].nodeName "n 1" must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'],
  ])('refuses %j, saying what is wrong', (raw, error) => {
    expect(parseEndpointSlice(raw, 'default')).toEqual({ ok: false, error });
  });

  it('keeps loopback endpoints only when told to (tests serving pods on 127.0.0.x)', () => {
    const raw = { addressType: 'IPv4', metadata: { name: 's' }, endpoints: [{ addresses: ['127.0.0.2'] }] };
    expect(parseEndpointSlice(raw, 'default').ok).toBe(false);
    expect(parseEndpointSlice(raw, 'default', { allowLoopback: true }).ok).toBe(true);
    const linkLocal = { ...raw, endpoints: [{ addresses: ['169.254.1.1'] }] };
    expect(parseEndpointSlice(linkLocal, 'default', { allowLoopback: true }).ok).toBe(false);
  });
});
