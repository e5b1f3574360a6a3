import { isValidation, type ValidationError } from './errors';
import { isIPAddress } from './lifecycle';
import { validateManifest } from './manifest';

const pod = (container: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'web', containerPort: 80 }], ...container }], ...spec },
});

const issues = (doc: unknown): string[] => {
  try {
    validateManifest(doc);
  } catch (e) {
    if (isValidation(e)) return (e as ValidationError).issues;
    throw e;
  }
  throw new Error('accepted');
};

describe('lifecycle hooks, host aliases and DNS fields', () => {
  it('accept each hook handler, tty and stdin, host aliases and a resolver config', () => {
    const doc = pod({
      lifecycle: {
        postStart: { exec: { command: ['sh', '-c', 'echo hi > /tmp/x'] } },
        preStop: { httpGet: { path: '/quit', port: 'web', host: '127.0.0.1', httpHeaders: [{ name: 'X-A', value: 'b' }], scheme: 'HTTP' } },
      },
      tty: true, stdin: true, stdinOnce: true,
    }, {
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar'] }, { ip: 'fd00::1', hostnames: ['six'] }],
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['10.0.0.10'], searches: ['ns1.svc.example'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] },
    });
    expect(validateManifest(doc).object).toEqual(doc);
    expect(validateManifest(pod({ lifecycle: { preStop: { sleep: { seconds: 5 } } } })).object.kind).toBe('Pod');
  });

  it.each([
    [{ lifecycle: { postStart: {} } }, 'spec.containers[0].lifecycle.postStart: a lifecycle hook needs one handler: exec, httpGet or sleep'],
    [{ lifecycle: { preStop: { exec: { command: ['true'] }, sleep: { seconds: 1 } } } },
      'spec.containers[0].lifecycle.preStop.sleep: a lifecycle hook has one handler, this one has exec and sleep'],
    [{ lifecycle: { preStop: { httpGet: { port: 'admin' } } } },
      'spec.containers[0].lifecycle.preStop.httpGet.port: the container has no port named "admin"'],
    [{ lifecycle: { postStart: { sleep: { seconds: -1 } } } }, /^spec\.containers\[0\]\.lifecycle\.postStart\.sleep\.seconds: /],
    [{ lifecycle: { postStart: { httpGet: { port: 80, scheme: 'HTTPS' } } } },
      /^spec\.containers\[0\]\.lifecycle\.postStart\.httpGet\.scheme: unsupported scheme "HTTPS"/],
    [{ lifecycle: { onExit: { sleep: { seconds: 1 } } } }, 'unknown field "spec.containers[0].lifecycle.onExit"'],
    [{ tty: 'yes' }, /^spec\.containers\[0\]\.tty: /],
  ])('refuse container %j', (container, msg) => {
    const got = issues(pod(container));
    expect(got).toHaveLength(1);
    if (typeof msg === 'string') expect(got[0]).toBe(msg);
    else expect(got[0]).toMatch(msg);
  });

  it.each([
    [{ dnsPolicy: 'None' }, 'spec.dnsConfig: required when dnsPolicy is None'],
    [{ dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } },
      'spec.dnsConfig.nameservers: at least one nameserver is required when dnsPolicy is None'],
    [{ dnsConfig: { nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'] } }, 'spec.dnsConfig.nameservers: at most 3 nameservers'],
    [{ dnsConfig: { nameservers: ['dns.example'] } }, 'spec.dnsConfig.nameservers[0]: must be an IPv4 or IPv6 address'],
    [{ dnsConfig: { searches: Array.from({ length: 33 }, (_, i) => `s${i}.example`) } }, 'spec.dnsConfig.searches: at most 32 search domains'],
    [{ dnsConfig: { options: [{ value: '1' }] } }, /^spec\.dnsConfig\.options\[0\]\.name: /],
    [{ dnsPolicy: 'Cluster' }, /^spec\.dnsPolicy: /],
    [{ hostAliases: [{ ip: '10.0.0.300', hostnames: ['a'] }] }, 'spec.hostAliases[0].ip: must be an IPv4 or IPv6 address'],
    [{ hostAliases: [{ ip: '10.0.0.3', hostnames: [] }] }, 'spec.hostAliases[0].hostnames: a host alias needs at least one hostname'],
    [{ hostAliases: [{ ip: '10.0.0.3', hostnames: ['Bad_Name'] }] }, /^spec\.hostAliases\[0\]\.hostnames\[0\]: must be a lower case DNS name/],
  ])('refuse spec %j', (spec, msg) => {
    const got = issues(pod({}, spec));
    expect(got).toHaveLength(1);
    if (typeof msg === 'string') expect(got[0]).toBe(msg);
    else expect(got[0]).toMatch(msg);
  });

  it('refuse tcpSocket in a hook by name', () => {
    expect(issues(pod({ lifecycle: { preStop: { tcpSocket: { port: 80 } } } }))).toContain('unknown field "spec.containers[0].lifecycle.preStop.tcpSocket"');
  });

  it('refuse hooks on init containers', () => {
    const doc = pod({}, { initContainers: [{ name: 'i', image: 'busybox', lifecycle: { postStart: { sleep: { seconds: 1 } } } }] });
    expect(issues(doc)).toEqual(['spec.initContainers[0].lifecycle: init containers may not have a lifecycle']);
  });

  it('tells IP addresses from other strings', () => {
    for (const ok of ['10.0.0.1', '255.255.255.255', '::1', 'fe80::1:2', '2001:db8:0:0:0:0:0:1', '::ffff:10.0.0.1', '::']) expect([ok, isIPAddress(ok)]).toEqual([ok, true]);
    for (const bad of ['10.0.0', '256.0.0.1', '01.2.3.4', 'a::b::c', '1:2:3:4:5:6:7:8:9', 'host', '', '12345::1']) expect([bad, isIPAddress(bad)]).toEqual([bad, false]);
  });
});
