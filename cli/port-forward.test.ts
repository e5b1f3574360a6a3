import type { Pod } from '../messages';
import { assertRunning, isPortName, parsePortSpec, resolvePorts } from './port-forward';
import type { Service } from '../messages/service';

const pod = (phase = 'Running'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }] }] },
  status: { phase },
} as Pod);

const svc = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { app: 'web' },
    ports: [{ name: 'web', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9000, targetPort: 9090 }, { port: 7000 }],
  },
} as Service;

describe('parsePortSpec', () => {
  it('reads kubectl\'s forms', () => {
    expect(parsePortSpec('8080')).toMatchObject({ local: 8080, remote: 8080 });
    expect(parsePortSpec('18080:80')).toMatchObject({ local: 18080, remote: 80 });
    expect(parsePortSpec(':80')).toMatchObject({ local: 0, remote: 80 });
    expect(parsePortSpec('0:80')).toMatchObject({ local: 0, remote: 80 });
    expect(parsePortSpec(':http')).toMatchObject({ local: 0, remote: 'http' });
    expect(parsePortSpec('8080:http')).toMatchObject({ local: 8080, remote: 'http' });
    expect(parsePortSpec('http')).toMatchObject({ local: undefined, remote: 'http' });
  });

  it('refuses what is neither a port number nor a port name, naming it', () => {
    for (const bad of ['0', '70000', '80:0', 'x:80', '-1', '8080:', '1:2:3', 'HTTP', 'a--b', 'toolongportname1', '99999:80', '']) {
      expect(() => parsePortSpec(bad)).toThrow(new RegExp(`invalid port "${bad}"`));
    }
  });

  it('knows port names', () => {
    expect(isPortName('http')).toBe(true);
    expect(isPortName('web-2')).toBe(true);
    expect(isPortName('80')).toBe(false);
    expect(isPortName('-http')).toBe(false);
  });
});

describe('resolvePorts', () => {
  it('maps a pod port name to its container port, a number to itself', () => {
    expect(resolvePorts({ pod: pod() }, parsePortSpec(':http'))).toEqual({ local: 0, remote: 8080 });
    expect(resolvePorts({ pod: pod() }, parsePortSpec('http'))).toEqual({ local: 8080, remote: 8080 });
    expect(resolvePorts({ pod: pod() }, parsePortSpec('5000:80'))).toEqual({ local: 5000, remote: 80 });
    expect(() => resolvePorts({ pod: pod() }, parsePortSpec(':grpc'))).toThrow("pod 'web' does not have a named port 'grpc'");
  });

  it('maps a service port, by number or name, to its targetPort', () => {
    const t = { pod: pod(), service: svc };
    expect(resolvePorts(t, parsePortSpec('80'))).toEqual({ local: 80, remote: 8080 });
    expect(resolvePorts(t, parsePortSpec('18080:web'))).toEqual({ local: 18080, remote: 8080 });
    expect(resolvePorts(t, parsePortSpec(':metrics'))).toEqual({ local: 0, remote: 9090 });
    expect(resolvePorts(t, parsePortSpec('7000'))).toEqual({ local: 7000, remote: 7000 });
    expect(() => resolvePorts(t, parsePortSpec('8080'))).toThrow('service web does not have a service port 8080');
  });
});

describe('assertRunning', () => {
  it('says the pod is not running, with its phase', () => {
    expect(() => assertRunning(pod('Pending'))).toThrow('unable to forward port because pod is not running. Current status=Pending');
    expect(() => assertRunning(pod())).not.toThrow();
  });
});
