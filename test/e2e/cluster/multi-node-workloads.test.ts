/**
 * Workload controllers end to end on `mk up --nodes 3`, with pods that really run (containerd,
 * runc, CNI on every node): a ReplicaSet replaces a deleted pod and heals when a node stops
 * answering; a Deployment rolls to a new image within its surge and unavailability bounds
 * (sampled), stalls on a failing readiness probe until its progress deadline, and rolls back; a
 * liveness probe restarts a hung container; a DaemonSet runs on every node and stays through a
 * drain with --ignore-daemonsets; a Job of 5 completions never runs more than 2 pods at once; a
 * failing Job stops at its backoffLimit; a CronJob on a one-minute schedule runs on the real
 * clock; a HorizontalPodAutoscaler scales a Deployment whose pods burn CPU up to its max, and
 * back down once they idle.
 */
import type { Deployment, Job, Pod, ReplicaSet } from '../../../messages';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

/** Seconds a pod tolerates its node not answering: short, so that a lost node's pods go soon. */
const TOLERATION_S = '3';

const template = (labels: string, command: string, extra = '') => `  template:
    metadata:
      labels: { ${labels} }
    spec:
      terminationGracePeriodSeconds: 1
${extra}      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", ${JSON.stringify(command)}]
          resources: { requests: { cpu: 50m, memory: 8Mi } }
`;

const jobYaml = (name: string, command: string, spec: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${spec}
${template(`job: ${name}`, command, '      restartPolicy: Never\n')}`;

describeE2e('workloads on mk up --nodes 3', () => {
  let c: MultiNodeCluster;
  let stopped: number | undefined;

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await mkOk([...args, '-o', 'json'])) as T;
  const pods = async (selector: string): Promise<Pod[]> => (await json<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items;
  const active = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  const ready = (p: Pod) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;

  beforeAll(async () => {
    c = await startMultiNodeCluster({
      nodes: 3,
      upArgs: ['--node-monitor-grace-period', '20s', '--default-not-ready-toleration-seconds', TOLERATION_S,
        '--default-unreachable-toleration-seconds', TOLERATION_S],
      // The HPA looks every 5 s rather than 15 s; a failed Job pod is replaced after 1 s, 2 s, ... rather than 10 s, 20 s, ...
      env: { MK_HPA_SYNC_PERIOD: '5s', MK_JOB_BACKOFF_BASE_MS: '1000' },
    });
    await c.waitNodesReady();
  });
  afterAll(async () => {
    if (stopped) { try { process.kill(stopped, 'SIGCONT'); } catch { /* gone */ } }
    await c?.destroy();
  });

  it('starts a CronJob on a one-minute schedule (checked at the end, on the real clock)', async () => {
    const out = await mkOk(['apply', '-f', '-'], `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
            - name: main
              image: busybox
              command: ["echo", "tick"]
`);
    expect(out).toBe('cronjob.batch/tick created\n');
  });

  it('keeps a ReplicaSet at six pods when a node stops answering: its pods are replaced on the others', async () => {
    await mkOk(['apply', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: heal
spec:
  replicas: 6
  selector: { matchLabels: { app: heal } }
${template('app: heal', 'sleep 3600')}`);
    const first = await waitFor('six pods Running on three nodes', async () => {
      const ps = (await pods('app=heal')).filter(active);
      return ps.length === 6 && ps.every((p) => p.status?.phase === 'Running') && new Set(ps.map((p) => p.spec.nodeName)).size === 3 ? ps : null;
    }, 240_000);
    // A deleted pod is replaced by a new one.
    const victim = first[0].metadata.name;
    await mkOk(['delete', 'pod', victim, '--wait=false']);
    const refilled = await waitFor('a replacement for the deleted pod', async () => {
      const ps = (await pods('app=heal')).filter(active);
      return ps.length === 6 && !ps.some((p) => p.metadata.name === victim) && ps.every((p) => p.status?.phase === 'Running') ? ps : null;
    }, 120_000);
    const lost = refilled.filter((p) => p.spec.nodeName === 'node-2').map((p) => p.metadata.name);
    expect(lost.length).toBeGreaterThan(0);

    stopped = c.nodeAgentPid('node-2');
    expect(stopped).toBeGreaterThan(0);
    process.kill(stopped!, 'SIGSTOP');
    const healed = await waitFor('six active pods again, none on node-2', async () => {
      const ps = (await pods('app=heal')).filter(active);
      return ps.length === 6 && ps.every((p) => p.status?.phase === 'Running' && p.spec.nodeName !== 'node-2') ? ps : null;
    }, 180_000, 500);
    // The replacements are new pods; the lost ones are marked for deletion, not counted.
    for (const name of lost) expect(healed.map((p) => p.metadata.name)).not.toContain(name);
    const rs = await waitFor('the ReplicaSet reports six ready', async () => {
      const r = await json<ReplicaSet>(['get', 'rs', 'heal']);
      return r.status?.readyReplicas === 6 ? r : null;
    }, 60_000);
    expect(rs.status?.replicas).toBe(6);
    expect(await mkOk(['get', 'events'])).toMatch(/SuccessfulCreate/);

    process.kill(stopped!, 'SIGCONT');
    stopped = undefined;
    await c.waitNodesReady(120_000);
    // Back on the network, node-2 stops its evicted pods and they go; still exactly six.
    const settled = await waitFor('the evicted pods gone', async () => {
      const ps = await pods('app=heal');
      return ps.length === 6 && ps.every(active) ? ps : null;
    }, 120_000);
    expect(settled.every((p) => p.status?.phase === 'Running')).toBe(true);
    await mkOk(['delete', 'rs', 'heal']);
    await waitFor('the ReplicaSet\'s pods gone', async () => ((await pods('app=heal')).length === 0 ? true : null), 120_000);
  });

  it('rolls a Deployment to a new image within maxUnavailable and maxSurge (sampled), stalls on a failing readiness probe, and rolls back', async () => {
    // The nodes hold busybox alone; its full reference is another image string, so a new template.
    const NEW_IMAGE = 'docker.io/library/busybox:latest';
    await mkOk(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  progressDeadlineSeconds: 30
  # Each new pod counts as available 2 s after it is ready: the rollout takes steps the sampler sees.
  minReadySeconds: 2
  selector: { matchLabels: { app: web } }
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } }
${template('app: web', 'echo v1; exec sleep 3600')}`);
    const status1 = await c.mk(['rollout', 'status', 'deployment/web', '--timeout=240s'], { timeoutMs: 260_000 });
    expect(status1.code).toBe(0);
    expect(status1.stdout).toContain('deployment "web" successfully rolled out');

    // To a new image; sampled while it rolls: never fewer than 3 ready (4 - maxUnavailable), never more than 5 pods (4 + maxSurge).
    expect(await mkOk(['set', 'image', 'deployment/web', `main=${NEW_IMAGE}`])).toBe('deployment.apps/web image updated\n');
    let watching = true;
    const seen: { pods: number; ready: number }[] = [];
    const watcher = (async () => {
      while (watching) {
        const ps = (await pods('app=web')).filter(active);
        seen.push({ pods: ps.length, ready: ps.filter(ready).length });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const status2 = await c.mk(['rollout', 'status', 'deployment/web', '--timeout=240s'], { timeoutMs: 260_000 });
    watching = false;
    await watcher;
    expect(status2.code).toBe(0);
    expect(seen.length).toBeGreaterThan(4);
    expect(Math.min(...seen.map((x) => x.ready))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...seen.map((x) => x.pods))).toBeLessThanOrEqual(5);
    const rolled = await waitFor('four pods of the new image', async () => {
      const ps = (await pods('app=web')).filter(active);
      return ps.length === 4 && ps.every((p) => p.spec.containers[0].image === NEW_IMAGE && p.status?.phase === 'Running') ? ps : null;
    }, 120_000);
    expect(new Set(rolled.map((p) => p.spec.nodeName)).size).toBeGreaterThan(1);
    expect(await mkOk(['rollout', 'history', 'deployment/web'])).toMatch(/^deployment\.apps\/web\nREVISION\s+CHANGE-CAUSE\n1\s+.*\n2\s+/);

    // A template whose readiness probe never passes stalls: the old pods keep serving, the deadline marks it.
    await mkOk(['patch', 'deployment', 'web', '--type=json', '-p',
      JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/readinessProbe', value: { exec: { command: ['false'] }, periodSeconds: 1 } }])]);
    const stalled = await c.mk(['rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 140_000 });
    expect(stalled.code).toBe(1);
    expect(stalled.stderr).toContain('deployment "web" exceeded its progress deadline');
    const d = await json<Deployment>(['get', 'deployment', 'web']);
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect((await pods('app=web')).filter(active).filter(ready).length).toBeGreaterThanOrEqual(3);

    // Back to the first revision's template: busybox printing v1, no probe.
    expect(await mkOk(['rollout', 'undo', 'deployment/web', '--to-revision=1'])).toBe('deployment.apps/web rolled back\n');
    const status3 = await c.mk(['rollout', 'status', 'deployment/web', '--timeout=240s'], { timeoutMs: 260_000 });
    expect(status3.code).toBe(0);
    const back = await waitFor('four v1 pods', async () => {
      const ps = (await pods('app=web')).filter(active);
      return ps.length === 4 && ps.every((p) => p.spec.containers[0].image === 'busybox' && ready(p)) ? ps : null;
    }, 120_000);
    for (const p of back) expect((await mkOk(['logs', p.metadata.name])).trim()).toBe('v1');
    await mkOk(['delete', 'deployment', 'web']);
  });

  it('restarts a container whose liveness probe fails, with the event', async () => {
    await mkOk(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: hangs
spec:
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "touch /tmp/alive; sleep 4; rm /tmp/alive; exec sleep 3600"]
      livenessProbe:
        exec: { command: ["cat", "/tmp/alive"] }
        periodSeconds: 1
        failureThreshold: 2
`);
    const p = await waitFor('a restart', async () => {
      const x = await json<Pod>(['get', 'pod', 'hangs']);
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : null;
    }, 120_000, 500);
    expect(p.status?.containerStatuses?.[0]?.lastState?.terminated).toBeDefined();
    const events = await mkOk(['get', 'events', '--field-selector', 'involvedObject.name=hangs']);
    expect(events).toMatch(/Unhealthy.*Liveness probe failed/);
    expect(events).toMatch(/Killing.*failed liveness probe, will be restarted/);
    await mkOk(['delete', 'pod', 'hangs', '--grace-period', '0']);
  });

  it('runs a DaemonSet pod on every node; drain refuses them without --ignore-daemonsets and leaves them with it', async () => {
    await mkOk(['apply', '-f', '-'], `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: everywhere
spec:
  selector: { matchLabels: { app: everywhere } }
${template('app: everywhere', 'exec sleep 3600')}`);
    const placed = await waitFor('a Running daemon pod on each node', async () => {
      const ps = (await pods('app=everywhere')).filter(active);
      return ps.length === 3 && new Set(ps.map((p) => p.spec.nodeName)).size === 3 && ps.every((p) => p.status?.phase === 'Running') ? ps : null;
    }, 180_000);
    const refused = await c.mk(['drain', 'node-3']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)');
    const drained = await c.mk(['drain', 'node-3', '--ignore-daemonsets'], { timeoutMs: 120_000 });
    expect(drained.code).toBe(0);
    expect(drained.stderr).toContain('Warning: ignoring DaemonSet-managed Pods');
    // The daemon pod stays on the cordoned node, the same pod as before.
    const mine = placed.find((p) => p.spec.nodeName === 'node-3')!;
    const after = (await pods('app=everywhere')).filter(active);
    expect(after.find((p) => p.spec.nodeName === 'node-3')?.metadata.uid).toBe(mine.metadata.uid);
    await mkOk(['uncordon', 'node-3']);
    await mkOk(['delete', 'ds', 'everywhere']);
  });

  it('runs a Job of 5 completions with parallelism 2, never more than 2 pods at once', async () => {
    await mkOk(['apply', '-f', '-'], jobYaml('five', 'sleep 2; echo done', '  completions: 5\n  parallelism: 2'));
    const wait = await c.mk(['wait', '--for=condition=Complete', 'job/five', '--timeout=300s'], { timeoutMs: 320_000 });
    expect(wait).toMatchObject({ code: 0, stdout: 'job.batch/five condition met\n' });
    const job = await json<Job>(['get', 'job', 'five']);
    expect(job.status).toMatchObject({ succeeded: 5, active: 0 });
    const ran = await pods('job=five');
    expect(ran.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(5);
    // From the containers' own start and finish times: at no moment were more than two running.
    const spans = ran.map((p) => p.status!.containerStatuses![0].state!.terminated!)
      .map((t) => [Date.parse(t.startedAt!), Date.parse(t.finishedAt!)] as const);
    for (const [start] of spans) {
      expect(spans.filter(([s, f]) => s <= start && start < f).length).toBeLessThanOrEqual(2);
    }
  });

  it('fails a Job at its backoffLimit, with each failed pod kept', async () => {
    await mkOk(['apply', '-f', '-'], jobYaml('bad', 'exit 3', '  backoffLimit: 2'));
    const wait = await c.mk(['wait', '--for=condition=Failed', 'job/bad', '--timeout=300s'], { timeoutMs: 320_000 });
    expect(wait).toMatchObject({ code: 0, stdout: 'job.batch/bad condition met\n' });
    const job = await json<Job>(['get', 'job', 'bad']);
    expect(job.status?.failed).toBe(3);
    expect(job.status?.conditions?.find((x) => x.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const failed = await pods('job=bad');
    expect(failed.map((p) => p.status?.phase)).toEqual(['Failed', 'Failed', 'Failed']);
    for (const p of failed) expect(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
  });

  it('scales a CPU-burning Deployment up to the HPA\'s max, and down to its min once the pods idle', async () => {
    const deploy = (command: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: burn
spec:
  replicas: 1
  selector: { matchLabels: { app: burn } }
  template:
    metadata:
      labels: { app: burn }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", ${JSON.stringify(command)}]
          resources: { requests: { cpu: 100m }, limits: { cpu: 200m } }
`;
    await mkOk(['apply', '-f', '-'], deploy('while :; do :; done'));
    expect(await mkOk(['apply', '-f', '-'], `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: burn }
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
  behavior:
    scaleDown: { stabilizationWindowSeconds: 10 }
`)).toBe('horizontalpodautoscaler.autoscaling/burn created\n');
    // Each pod burns up to its 200m limit against a 100m request: about 200 % of the 50 % target.
    const up = await waitFor('the HPA at 3 replicas', async () => {
      const d = await json<Deployment>(['get', 'deployment', 'burn']);
      return d.spec.replicas === 3 ? d : null;
    }, 240_000, 1000);
    expect(up.spec.replicas).toBe(3);
    const table = await mkOk(['get', 'hpa', 'burn']);
    expect(table).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
    expect(table).toMatch(/\nburn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+\d\s+/);
    expect(await mkOk(['get', 'events'])).toMatch(/SuccessfulRescale.*New size: [23]/);

    // The pods stop burning (a new template): the HPA goes back to its min after its 10 s window.
    await mkOk(['apply', '-f', '-'], deploy('exec sleep 3600'));
    await waitFor('the HPA back at 1 replica', async () => {
      const d = await json<Deployment>(['get', 'deployment', 'burn']);
      return d.spec.replicas === 1 ? d : null;
    }, 240_000, 1000);
    await mkOk(['delete', 'hpa', 'burn']);
    await mkOk(['delete', 'deployment', 'burn']);
  });

  it('the one-minute CronJob has run twice, keeping one finished Job', async () => {
    const tickJobs = async () => (await json<{ items: Job[] }>(['get', 'jobs'])).items.filter((j) => j.metadata.name.startsWith('tick-'));
    // Job names carry the scheduled minute: two minutes run, the older Job deleted by the history limit.
    const created = await waitFor('two runs, one finished Job kept', async () => {
      const names = [...(await mkOk(['get', 'events'])).matchAll(/Created job (tick-\d+)/g)].map((m) => m[1]);
      const jobs = await tickJobs();
      return new Set(names).size >= 2 && jobs.length === 1 && jobs[0].status?.succeeded === 1 ? new Set(names) : null;
    }, 180_000, 1000);
    expect(created.size).toBeGreaterThanOrEqual(2);
    const cj = await json<{ status?: { lastSuccessfulTime?: string } }>(['get', 'cronjob', 'tick']);
    expect(cj.status?.lastSuccessfulTime).toBeDefined();
    const kept = await tickJobs();
    expect((await pods(`batch.kubernetes.io/job-name=${kept[0].metadata.name}`)).length).toBe(1);
    expect(await mkOk(['get', 'cronjobs'])).toMatch(/\ntick\s+\* \* \* \* \*\s+/);
  });
});
