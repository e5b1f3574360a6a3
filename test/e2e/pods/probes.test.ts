/**
 * Probes end to end: `mk up` in a network namespace, pods with readiness, liveness and startup
 * probes on busybox, run by the node agent against real containerd, and their effect on the pod's
 * Ready condition, restarts and events, seen through the CLI.
 */
import path from 'node:path';
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const podYaml = (name: string, command: string, probes: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(command)}]
      ports:
        - name: web
          containerPort: 8080
${probes}`;

describeE2e('probes on a one-machine cluster', () => {
  let c: TestCluster;
  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const cond = (p: Pod, type: string) => p.status?.conditions?.find((x) => x.type === type)?.status;
  const waitPod = (what: string, name: string, ok: (p: Pod) => boolean, ms = 90_000) =>
    waitFor(`pod ${name}: ${what}`, async () => { const p = await getPod(name); return ok(p) ? p : null; }, ms);
  const apply = async (yaml: string, name: string): Promise<void> => {
    expect(await c.mk(['apply', '-f', '-'], { stdin: yaml })).toMatchObject({ code: 0, stdout: `pod/${name} created\n` });
  };
  const events = async (name: string): Promise<string> => {
    const r = await c.mk(['get', 'events']);
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter((l) => l.includes(`pod/${name}`)).join('\n');
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('refuses a probe with two handlers, naming the field, and creates nothing', async () => {
    const bad = podYaml('bad', 'sleep 3600', `      readinessProbe:
        exec: { command: ["true"] }
        tcpSocket: { port: 8080 }
`);
    const r = await c.mk(['apply', '-f', '-'], { stdin: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spec.containers[0].readinessProbe.tcpSocket: a probe has one handler, this one has exec and tcpSocket');
    expect((await c.mk(['get', 'pod', 'bad'])).code).toBe(1);
  });

  it('readiness over httpGet on busybox httpd follows a file appearing and disappearing', async () => {
    await apply(podYaml('web', 'mkdir -p /www && exec httpd -f -p 8080 -h /www', `      readinessProbe:
        httpGet: { path: /ready.txt, port: web }
        periodSeconds: 1
        failureThreshold: 1
`), 'web');
    const running = await waitPod('Running', 'web', (p) => p.status?.phase === 'Running');
    expect(running.status?.containerStatuses?.[0].ready).toBe(false);
    expect(cond(running, 'Ready')).toBe('False');
    expect(await c.mk(['exec', 'web', '--', 'sh', '-c', 'echo ok > /www/ready.txt'])).toMatchObject({ code: 0 });
    const ready = await waitPod('Ready', 'web', (p) => cond(p, 'Ready') === 'True');
    expect(cond(ready, 'ContainersReady')).toBe('True');
    expect(ready.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    expect(await c.mk(['exec', 'web', '--', 'rm', '/www/ready.txt'])).toMatchObject({ code: 0 });
    await waitPod('not Ready', 'web', (p) => cond(p, 'Ready') === 'False' && p.status?.containerStatuses?.[0].ready === false);
    expect(await events('web')).toMatch(/Unhealthy\s+pod\/web\s+Readiness probe failed: HTTP probe failed with statuscode: 404/);
  });

  it('a failing liveness exec probe restarts the container and records why', async () => {
    await apply(podYaml('live', 'touch /tmp/alive && sleep 3600', `      livenessProbe:
        exec: { command: ["cat", "/tmp/alive"] }
        periodSeconds: 1
        failureThreshold: 2
`), 'live');
    await waitPod('Running', 'live', (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0].ready === true);
    expect(await c.mk(['exec', 'live', '--', 'rm', '/tmp/alive'])).toMatchObject({ code: 0 });
    await waitPod('restarted', 'live', (p) => (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 1);
    const ev = await waitFor('the Killing event', async () => {
      const e = await events('live');
      return /Killing\s+pod\/live\s+Container main failed liveness probe, will be restarted/.test(e) ? e : null;
    }, 30_000);
    expect(ev).toMatch(/Unhealthy\s+pod\/live\s+Liveness probe failed: /);
  });

  it('a startup probe holds readiness until it passes, and a tcpSocket probe sees the listener', async () => {
    // httpd starts listening only after /tmp/go appears; the tcp startup probe waits for it.
    await apply(podYaml('slow', 'while [ ! -e /tmp/go ]; do sleep 0.2; done; exec httpd -f -p 8080 -h /', `      startupProbe:
        tcpSocket: { port: 8080 }
        periodSeconds: 1
        failureThreshold: 120
      readinessProbe:
        tcpSocket: { port: web }
        periodSeconds: 1
`), 'slow');
    const running = await waitPod('Running', 'slow', (p) => p.status?.phase === 'Running');
    expect(running.status?.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
    expect(cond(running, 'Ready')).toBe('False');
    expect(await c.mk(['exec', 'slow', '--', 'touch', '/tmp/go'])).toMatchObject({ code: 0 });
    const ready = await waitPod('Ready', 'slow', (p) => cond(p, 'Ready') === 'True');
    expect(ready.status?.containerStatuses?.[0]).toMatchObject({ started: true, ready: true, restartCount: 0 });
    const described = await c.mk(['describe', 'pod', 'slow']);
    expect(described.stdout).toMatch(/Startup:\s+tcp-socket :8080 delay=0s timeout=1s period=1s #success=1 #failure=120\n/);
  });

  it('runs examples/probes.yaml as the README says: Ready once /www/ready exists', async () => {
    expect(await c.mk(['apply', '-f', path.join(__dirname, '../../../examples/probes.yaml')])).toMatchObject({ code: 0 });
    const running = await waitPod('started', 'probed', (p) => p.status?.containerStatuses?.[0].started === true);
    expect(cond(running, 'Ready')).toBe('False');
    expect(await c.mk(['exec', 'probed', '--', 'touch', '/www/ready'])).toMatchObject({ code: 0 });
    await waitPod('Ready', 'probed', (p) => cond(p, 'Ready') === 'True');
    const table = await c.mk(['get', 'pod', 'probed']);
    expect(table.stdout).toMatch(/probed\s+1\/1\s+Running\s+0\s+/);
  });

  it('a startup probe that never passes restarts the container', async () => {
    await apply(podYaml('stuck', 'sleep 3600', `      startupProbe:
        exec: { command: ["false"] }
        periodSeconds: 1
        failureThreshold: 2
`), 'stuck');
    const p = await waitPod('restarted', 'stuck', (x) => (x.status?.containerStatuses?.[0].restartCount ?? 0) >= 1);
    expect(p.status?.containerStatuses?.[0].ready).toBe(false);
    await waitFor('the Killing event', async () => {
      const e = await events('stuck');
      return /Killing\s+pod\/stuck\s+Container main failed startup probe, will be restarted/.test(e) ? e : null;
    }, 30_000);
  });
});
