/**
 * A container's environment from every source, end to end with `mk up` in a network namespace
 * and real containerd: a ConfigMap (env and envFrom), a Secret, fieldRefs, a resourceFieldRef and
 * `$(VAR)` expansion in env and command, checked in the container's own output (`mk logs`); and
 * a pod whose ConfigMap is missing waits with CreateContainerConfigError, then runs once the
 * ConfigMap is created.
 */
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const envPod = (name: string, configMap: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: env-demo }
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "echo GREETING=$GREETING; echo MODE=$MODE; echo PASS=$PASSWORD; echo POD=$POD_NAME/$POD_NS; echo APP=$APP; echo IP=$POD_IP; echo MEM=$MEM_MI; echo ARG=$(MODE); echo 'ESC=$$(MODE)'; echo 'UNKNOWN=$(NOPE)'"]
      resources: { limits: { memory: 64Mi } }
      envFrom:
        - configMapRef: { name: ${configMap} }
      env:
        - name: PASSWORD
          valueFrom: { secretKeyRef: { name: env-secret, key: password } }
        - name: POD_NAME
          valueFrom: { fieldRef: { fieldPath: metadata.name } }
        - name: POD_NS
          valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
        - name: APP
          valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } }
        - name: POD_IP
          valueFrom: { fieldRef: { fieldPath: status.podIP } }
        - name: MEM_MI
          valueFrom: { resourceFieldRef: { resource: limits.memory, divisor: 1Mi } }
        - name: GREETING
          value: "hello $(POD_NAME) in $(MODE) mode"
`;

describeE2e('environment from ConfigMaps, Secrets and the pod', () => {
  let c: TestCluster;
  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const ok = async (args: string[], stdin?: string) => {
    const r = await c.mk(args, stdin === undefined ? {} : { stdin });
    expect(r).toMatchObject({ code: 0 });
    return r;
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('gives the container its variables and expands $(VAR) in env and command', async () => {
    await ok(['create', 'configmap', 'env-config', '--from-literal=MODE=fast', '--from-literal=1bad=skipped']);
    await ok(['create', 'secret', 'generic', 'env-secret', '--from-literal=password=s3cret']);
    await ok(['apply', '-f', '-'], envPod('env-demo', 'env-config'));
    const pod = await waitFor('env-demo succeeded', async () => { const p = await getPod('env-demo'); return p.status?.phase === 'Succeeded' ? p : null; }, 120_000);
    const logs = (await ok(['logs', 'env-demo'])).stdout;
    expect(logs.split('\n').filter(Boolean)).toEqual([
      'GREETING=hello env-demo in fast mode', 'MODE=fast', 'PASS=s3cret', 'POD=env-demo/default', 'APP=env-demo',
      `IP=${pod.status?.podIP}`, 'MEM=64', 'ARG=fast', 'ESC=$(MODE)', 'UNKNOWN=$(NOPE)',
    ]);
    expect(pod.status?.podIP).toMatch(/^10\.244\./);
    const described = await waitFor('the skipped key\'s event', async () => {
      const r = await c.mk(['describe', 'pod', 'env-demo']);
      return r.stdout.includes('InvalidEnvironmentVariableNames') ? r.stdout : null;
    }, 30_000);
    expect(described).toContain('Keys [1bad] from the EnvFrom configMap default/env-config were skipped');
  });

  it('waits with CreateContainerConfigError for a missing ConfigMap and runs once it exists', async () => {
    await ok(['apply', '-f', '-'], envPod('env-later', 'later-config'));
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const w = (await getPod('env-later')).status?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : null;
    }, 90_000);
    expect(waiting.message).toBe('configmap "later-config" not found');
    expect((await ok(['get', 'pods', 'env-later'])).stdout).toMatch(/env-later\s+0\/1\s+CreateContainerConfigError/);
    await ok(['create', 'configmap', 'later-config', '--from-literal=MODE=late']);
    await waitFor('env-later succeeded', async () => ((await getPod('env-later')).status?.phase === 'Succeeded' ? true : null), 90_000);
    expect((await ok(['logs', 'env-later'])).stdout).toContain('GREETING=hello env-later in late mode');
  });
});
