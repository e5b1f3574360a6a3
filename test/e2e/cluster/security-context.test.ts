/**
 * securityContext through the whole stack: `mk up` in a network namespace, `mk apply` of the
 * example pod, and the container's own word for what it runs as (`mk logs`, `mk exec`); a pod
 * refused at admission (an unsafe sysctl) stores nothing; a root image under runAsNonRoot shows
 * CreateContainerConfigError in `mk get pods`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

// From the sources (test/e2e/cluster) or the build (dist/test/e2e/cluster).
const EXAMPLES = [path.join(__dirname, '../../../examples'), path.join(__dirname, '../../../../examples')].find((d) => fs.existsSync(d)) ?? '';

describeE2e('securityContext on a one-machine cluster', () => {
  let c: TestCluster;
  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('runs the example as uid 1000 with no capabilities: mk logs and mk exec show it', async () => {
    const apply = await c.mk(['apply', '-f', path.join(EXAMPLES, 'security-context.yaml')]);
    expect(apply).toMatchObject({ code: 0, stdout: 'pod/locked created\n' });
    await waitFor('the pod to run', async () => (await getPod('locked')).status?.phase === 'Running', 120_000);
    const logs = await waitFor('its output', async () => {
      const r = await c.mk(['logs', 'locked']);
      return /^80$/m.test(r.stdout) && /Read-only/.test(r.stdout) ? r.stdout : null;
    });
    expect(logs).toMatch(/^uid=1000\S* gid=3000\S* groups=.*2000.*4000/m);
    expect(logs).toMatch(/^CapEff:\s+0000000000000000$/m);
    const id = await c.mk(['exec', 'locked', '--', 'id', '-u']);
    expect(id).toMatchObject({ code: 0, stdout: '1000\n' });
    const write = await c.mk(['exec', 'locked', '--', 'touch', '/x']);
    expect(write.code).not.toBe(0);
  });

  it('refuses an unsafe sysctl at admission, naming it, and stores nothing', async () => {
    const bad = `apiVersion: v1
kind: Pod
metadata:
  name: unsafe
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "65536"}]
  containers: [{name: app, image: busybox}]
`;
    const r = await c.mk(['apply', '-f', '-'], { stdin: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec\.securityContext\.sysctls\[0\]\.name: sysctl "kernel\.msgmax" is not allowed/);
    const get = await c.mk(['get', 'pod', 'unsafe']);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/not found/);
  });

  it('shows CreateContainerConfigError for a root image under runAsNonRoot', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: rooted
spec:
  securityContext: {runAsNonRoot: true}
  containers: [{name: app, image: busybox, command: [sleep, "3600"]}]
`;
    expect(await c.mk(['apply', '-f', '-'], { stdin: pod })).toMatchObject({ code: 0 });
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const w = (await getPod('rooted')).status?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : null;
    }, 120_000);
    expect(waiting.message).toMatch(/runAsNonRoot but its image runs as root/);
    const table = await c.mk(['get', 'pod', 'rooted']);
    expect(table.stdout).toMatch(/rooted\s+0\/1\s+CreateContainerConfigError/);
  });
});
