/**
 * GPU jobs end to end on a `mk up` cluster in a network namespace, with fake GPUs: character
 * devices the test makes with /dev/null's major:minor (so nothing real is touched) named
 * nvidia0, nvidia1 and nvidiactl in a temporary directory that the node agent takes as its GPU
 * device root (MK_GPU_DEV_ROOT). Shows the node's capacity, one fake GPU per pod seen by the pod
 * itself, a third pod held back by the scheduler, and the allocation read back by a node agent
 * restarted after SIGKILL.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const jobYaml = (name: string): string => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "ls /dev | grep nvidia; echo visible=$NVIDIA_VISIBLE_DEVICES; sleep 3600"]
          resources:
            limits:
              nvidia.com/gpu: 1
`;

/** Makes the fake GPU device nodes: /dev/null's device numbers under GPU names. */
function makeFakeGpus(dir: string, names: string[]): void {
  const st = fs.statSync('/dev/null');
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = st.rdev & 0xff;
  for (const n of names) {
    const r = spawnSync('mknod', ['-m', '666', path.join(dir, n), 'c', String(major), String(minor)]);
    if (r.status !== 0) throw new Error(`mknod ${n}: ${r.stderr.toString()}`);
  }
}

describeE2e('GPU jobs with fake GPUs', () => {
  let c: TestCluster;
  let fakeDevRoot: string;

  const podOf = async (job: string): Promise<Pod | undefined> => {
    const r = await c.mk(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items[0];
  };
  const runningPod = (job: string): Promise<Pod> => waitFor(`${job} running`, async () => {
    const p = await podOf(job);
    return p?.status?.phase === 'Running' ? p : null;
  }, 180_000);
  /** The fake GPU lines a pod printed: its nvidiaN devices and NVIDIA_VISIBLE_DEVICES. */
  const gpuOutput = (pod: Pod): Promise<string[]> => waitFor(`${pod.metadata.name} output`, async () => {
    const r = await c.mk(['logs', pod.metadata.name]);
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    return r.code === 0 && lines.some((l) => l.startsWith('visible=')) ? lines : null;
  }, 60_000);

  beforeAll(async () => {
    fakeDevRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fake-gpus-'));
    makeFakeGpus(fakeDevRoot, ['nvidia0', 'nvidia1', 'nvidiactl']);
    c = await startCluster({ env: { MK_GPU_DEV_ROOT: fakeDevRoot } });
  });
  afterAll(async () => {
    await c?.destroy();
    if (fakeDevRoot) fs.rmSync(fakeDevRoot, { recursive: true, force: true });
  });

  let a: Pod;
  let b: Pod;
  let aLines: string[];
  let bLines: string[];

  it('reports the two fake GPUs as the node\'s nvidia.com/gpu capacity', async () => {
    const r = await c.mk(['get', 'nodes', '-o', 'json']);
    const nodes = (JSON.parse(r.stdout) as { items: Node[] }).items;
    expect(nodes).toHaveLength(1);
    expect(nodes[0]!.status?.capacity?.['nvidia.com/gpu']).toBe('2');
    expect(nodes[0]!.status?.allocatable?.['nvidia.com/gpu']).toBe('2');
  });

  it('gives each of two GPU jobs exactly one, different, device; a third stays Pending', async () => {
    expect((await c.mk(['apply', '-f', '-'], { stdin: jobYaml('gpu-a') })).code).toBe(0);
    a = await runningPod('gpu-a');
    expect((await c.mk(['apply', '-f', '-'], { stdin: jobYaml('gpu-b') })).code).toBe(0);
    b = await runningPod('gpu-b');
    aLines = await gpuOutput(a);
    bLines = await gpuOutput(b);
    for (const lines of [aLines, bLines]) {
      expect(lines.filter((l) => /^nvidia\d+$/.test(l))).toHaveLength(1);
      expect(lines).toContain('nvidiactl');
      const dev = lines.find((l) => /^nvidia\d+$/.test(l))!;
      expect(lines).toContain(`visible=${dev.slice('nvidia'.length)}`);
    }
    expect(new Set([...aLines, ...bLines].filter((l) => /^nvidia\d+$/.test(l))).size).toBe(2);

    expect((await c.mk(['apply', '-f', '-'], { stdin: jobYaml('gpu-c') })).code).toBe(0);
    const pending = await waitFor('gpu-c unschedulable', async () => {
      const p = await podOf('gpu-c');
      const cond = p?.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return cond?.status === 'False' ? p : null;
    }, 60_000);
    expect(pending.status?.phase).toBe('Pending');
    expect(pending.status?.conditions?.find((x) => x.type === 'PodScheduled')?.message).toContain('Insufficient nvidia.com/gpu');
  });

  it('keeps the allocation across a SIGKILLed node agent, and gives a freed GPU to the waiting pod', async () => {
    const pid = c.pidOf(' node-agent');
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await waitFor('node agent restarted', async () => { const p = c.pidOf(' node-agent'); return p !== undefined && p !== pid; }, 60_000);
    await waitFor('api back', async () => (await c.mk(['get', 'pods'])).code === 0, 60_000);
    // The restarted agent adopts the containers as they were: same ids, same devices.
    for (const [job, before, lines] of [['gpu-a', a, aLines], ['gpu-b', b, bLines]] as const) {
      const now = await runningPod(job);
      expect(now.status?.containerStatuses?.[0]?.containerID).toBe(before.status?.containerStatuses?.[0]?.containerID);
      expect(await gpuOutput(now)).toEqual(lines);
    }
    // The new agent reads b's GPU from the runtime: the waiting pod gets a's, not b's.
    expect((await c.mk(['delete', 'job', 'gpu-a'])).code).toBe(0);
    const cPod = await runningPod('gpu-c');
    expect((await gpuOutput(cPod)).filter((l) => /^nvidia\d+$/.test(l))).toEqual(aLines.filter((l) => /^nvidia\d+$/.test(l)));
  });
});
