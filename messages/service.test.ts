import { validateManifest } from './manifest';
import { describeService, endpointsOf } from './printing/describe-service';
import { serviceExternalIP, servicePorts, serviceSelector } from './printing/service-columns';
import { defaultService, ianaSvcNameError, type Service } from './service';

const svc = (spec: Record<string, unknown>, name = 'web') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const port = { port: 80 };
const bad = (spec: Record<string, unknown>): string => {
  try {
    validateManifest(svc(spec));
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('Service manifests', () => {
  it('accepts a Kubernetes Service of each type as written', () => {
    const full = svc({
      type: 'LoadBalancer', selector: { app: 'web' },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080, appProtocol: 'http' }, { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 }],
      clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], externalIPs: ['192.0.2.1'], sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster',
      publishNotReadyAddresses: true, ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', loadBalancerIP: '192.0.2.2', allocateLoadBalancerNodePorts: true,
    });
    expect(validateManifest(full).object).toEqual(full);
    expect(validateManifest(svc({ type: 'ExternalName', externalName: 'db.example.com' })).object).toBeDefined();
    expect(validateManifest(svc({ clusterIP: 'None', selector: { app: 'db' } })).object).toBeDefined();
  });

  it('refuses ports out of range, duplicate or missing names, and bad target ports, in Kubernetes words', () => {
    expect(bad({ ports: [{ port: 70000 }] })).toContain('spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
    expect(bad({ ports: [{ port: 80 }, { port: 81, name: 'b' }] })).toContain('spec.ports[0].name: Required value');
    expect(bad({ ports: [{ port: 80, name: 'a' }, { port: 81, name: 'a' }] })).toContain('spec.ports[1].name: Duplicate value: "a"');
    expect(bad({ ports: [{ port: 80, name: 'Web' }] })).toContain('spec.ports[0].name: Invalid value: "Web"');
    expect(bad({ ports: [{ port: 80, targetPort: 0 }] })).toContain('spec.ports[0].targetPort: Invalid value: 0');
    expect(bad({ ports: [{ port: 80, targetPort: 'no_under' }] })).toContain('spec.ports[0].targetPort: Invalid value: "no_under"');
    expect(bad({ ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] })).toContain('spec.ports[1]: Duplicate value: port 80/TCP');
    expect(bad({})).toContain('spec.ports: Required value');
    expect(bad({ ports: [{ port: 80, protocol: 'ICMP' }] })).toContain('spec.ports[0].protocol');
  });

  it('refuses type-dependent fields on the wrong type', () => {
    expect(bad({ ports: [{ port: 80, nodePort: 30080 }] })).toContain("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
    expect(bad({ type: 'ExternalName' })).toContain('spec.externalName: Required value');
    expect(bad({ type: 'ExternalName', externalName: 'a.b', clusterIP: '10.96.0.1' })).toContain('may not be set for ExternalName services');
    expect(bad({ type: 'NodePort', clusterIP: 'None', ports: [port] })).toContain("may not be set to 'None' for NodePort services");
    expect(bad({ ports: [port], externalTrafficPolicy: 'Local' })).toContain('may only be set for externally-accessible services');
    expect(bad({ ports: [port], allocateLoadBalancerNodePorts: false })).toContain("spec.allocateLoadBalancerNodePorts: Forbidden");
    expect(bad({ ports: [port], externalName: 'x.y' })).toContain('spec.externalName: Forbidden');
  });

  it('refuses IPv6 and dual-stack, bad addresses and affinity timeouts, unknown fields', () => {
    expect(bad({ ports: [port], ipFamilies: ['IPv6'] })).toContain('spec.ipFamilies[0]: Unsupported value: "IPv6"');
    expect(bad({ ports: [port], ipFamilyPolicy: 'RequireDualStack' })).toContain('spec.ipFamilyPolicy: Unsupported value: "RequireDualStack"');
    expect(bad({ ports: [port], clusterIP: '10.96.0.300' })).toContain('spec.clusterIP: Invalid value: "10.96.0.300"');
    expect(bad({ ports: [port], clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.2'] })).toContain('must match clusterIP');
    expect(bad({ ports: [port], clusterIPs: ['10.96.0.1', 'fd00::1'] })).toContain('mk serves IPv4 single-stack only');
    expect(bad({ ports: [port], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }))
      .toContain('timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400');
    expect(bad({ ports: [port], sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } })).toContain("session affinity is 'None'");
    expect(bad({ ports: [port], externalIPs: ['nope'] })).toContain('spec.externalIPs[0]: Invalid value: "nope"');
    expect(bad({ ports: [port], selector: { 'bad key!': 'x' } })).toContain('spec.selector');
    expect(bad({ ports: [port], healthCheckNodePort: 30100 }))
      .toContain("spec.healthCheckNodePort: Invalid value: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    expect(bad({ type: 'LoadBalancer', ports: [port], healthCheckNodePort: 30100 })).toContain('spec.healthCheckNodePort: Invalid value');
    expect(bad({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [port], healthCheckNodePort: 70000 }))
      .toContain('spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    const lb = svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [port], healthCheckNodePort: 30100 });
    expect(validateManifest(lb).object).toEqual(lb);
  });

  it('defaults like Kubernetes', () => {
    const d = defaultService(svc({ ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 5353 }] }) as Service).spec;
    expect(d).toEqual({
      type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 53, protocol: 'UDP', targetPort: 5353 }],
    });
    const lb = defaultService(svc({ type: 'LoadBalancer', ports: [port], sessionAffinity: 'ClientIP' }) as Service).spec;
    expect(lb).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true, sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } });
    const en = defaultService(svc({ type: 'ExternalName', externalName: 'a.b' }) as Service).spec;
    expect(en.ipFamilies).toBeUndefined();
    expect(defaultService(svc({ clusterIP: 'None' }) as Service).spec.clusterIPs).toEqual(['None']);
  });

  it('checks IANA service names', () => {
    expect(ianaSvcNameError('http')).toBeNull();
    expect(ianaSvcNameError('8080')).toContain('at least one letter');
    expect(ianaSvcNameError('a--b')).toContain('consecutive');
    expect(ianaSvcNameError('averyveryverylongname')).toContain('15');
  });
});

describe('Service printing', () => {
  const s = (spec: Record<string, unknown>, status?: unknown) => ({ ...svc(spec), status }) as unknown as Service;

  it('prints ports, external IPs and the selector as kubectl does', () => {
    expect(servicePorts(s({ ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }))).toBe('80:30080/TCP,53/UDP');
    expect(servicePorts(s({}))).toBe('<none>');
    expect(serviceExternalIP(s({ type: 'ClusterIP' }))).toBe('<none>');
    expect(serviceExternalIP(s({ type: 'LoadBalancer' }))).toBe('<pending>');
    expect(serviceExternalIP(s({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] } }))).toBe('10.0.0.1,10.0.0.2');
    expect(serviceExternalIP(s({ type: 'ExternalName', externalName: 'db.example.com' }))).toBe('db.example.com');
    expect(serviceExternalIP(s({ type: 'NodePort', externalIPs: ['192.0.2.1'] }))).toBe('192.0.2.1');
    expect(serviceSelector(s({ selector: { tier: 'fe', app: 'web' } }))).toBe('app=web,tier=fe');
    expect(serviceSelector(s({}))).toBe('<none>');
  });

  it('describes a service with its endpoints from its slices', () => {
    const svcObj = s({
      type: 'NodePort', selector: { app: 'web' }, clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }], sessionAffinity: 'None', externalTrafficPolicy: 'Cluster',
    });
    const slices = [{
      metadata: { labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }, { addresses: ['10.244.0.6'], conditions: { ready: false } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }];
    expect(endpointsOf(svcObj.spec.ports![0], slices)).toBe('10.244.0.5:8080');
    expect(endpointsOf(svcObj.spec.ports![0], [])).toBe('<none>');
    const text = describeService(svcObj, slices, undefined);
    for (const line of ['Name:\tweb', 'Selector:\tapp=web', 'Type:\tNodePort', 'IP Family Policy:\tSingleStack', 'IP Families:\tIPv4', 'IP:\t10.96.0.10',
      'IPs:\t10.96.0.10', 'Port:\thttp\t80/TCP', 'TargetPort:\t8080/TCP', 'NodePort:\thttp\t30080/TCP', 'Endpoints:\t10.244.0.5:8080',
      'Session Affinity:\tNone', 'External Traffic Policy:\tCluster', 'Events:\t<none>']) {
      expect(text).toContain(line);
    }
  });
});
