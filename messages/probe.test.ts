import fs from 'node:fs';
import { load } from 'js-yaml';
import { isValidation, type ValidationError } from './errors';
import { validateManifest } from './manifest';

const pod = (container: Record<string, unknown>, init?: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: {
    containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'web', containerPort: 80 }], ...container }],
    ...(init ? { initContainers: [{ name: 'i', image: 'busybox', ...init }] } : {}),
  },
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

describe('container probes', () => {
  it('accept the three handlers with timing, ports by number or name', () => {
    const doc = pod({
      livenessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 2, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 4, terminationGracePeriodSeconds: 3 },
      readinessProbe: { httpGet: { path: '/ready', port: 'web', httpHeaders: [{ name: 'X-A', value: 'b' }], scheme: 'HTTP' }, successThreshold: 2 },
      startupProbe: { tcpSocket: { port: 80 } },
    });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it.each([
    [{ livenessProbe: {} }, 'spec.containers[0].livenessProbe: a probe needs one handler: exec, httpGet or tcpSocket'],
    [{ readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } },
      'spec.containers[0].readinessProbe.tcpSocket: a probe has one handler, this one has exec and tcpSocket'],
    [{ readinessProbe: { httpGet: { port: 80, scheme: 'HTTPS' } } },
      'spec.containers[0].readinessProbe.httpGet.scheme: unsupported scheme "HTTPS": mk probes speak plain HTTP only'],
    [{ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } },
      'spec.containers[0].livenessProbe.successThreshold: must be 1 for liveness probes, not 2'],
    [{ startupProbe: { tcpSocket: { port: 80 }, successThreshold: 3 } },
      'spec.containers[0].startupProbe.successThreshold: must be 1 for startup probes, not 3'],
    [{ readinessProbe: { tcpSocket: { port: 'metrics' } } },
      'spec.containers[0].readinessProbe.tcpSocket.port: the container has no port named "metrics"'],
    [{ readinessProbe: { tcpSocket: { port: 70000 } } },
      'spec.containers[0].readinessProbe.tcpSocket.port: invalid port 70000: must be between 1 and 65535'],
    [{ readinessProbe: { exec: { command: [] } } },
      'spec.containers[0].readinessProbe.exec.command: an exec probe needs a command'],
    [{ readinessProbe: { exec: { command: ['true'] }, periodSeconds: 0 } }, /^spec\.containers\[0\]\.readinessProbe\.periodSeconds: /],
  ])('refuse %j', (container, msg) => {
    const got = issues(pod(container));
    expect(got).toHaveLength(1);
    if (typeof msg === 'string') expect(got[0]).toBe(msg);
    else expect(got[0]).toMatch(msg);
  });

  it('refuse probes on init containers, and unknown handlers by name', () => {
    expect(issues(pod({}, { readinessProbe: { exec: { command: ['true'] } } })))
      .toEqual(['spec.initContainers[0].readinessProbe: init containers may not have a readinessProbe']);
    expect(issues(pod({ livenessProbe: { grpc: { port: 9 } } })))
      .toContain('unknown field "spec.containers[0].livenessProbe.grpc"');
  });
});

describe('examples/probes.yaml', () => {
  it('is a valid pod with all three probes on a named port', () => {
    const { object } = validateManifest(load(fs.readFileSync(`${__dirname}/../examples/probes.yaml`, 'utf8')));
    const c = (object as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0];
    expect(Object.keys(c)).toEqual(expect.arrayContaining(['startupProbe', 'livenessProbe', 'readinessProbe']));
  });
});
