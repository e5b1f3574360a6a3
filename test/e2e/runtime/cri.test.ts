/**
 * The container runtime layer end to end: a private containerd in a test network namespace,
 * the built-in images, a busybox pod with CNI networking, HTTP to it, exec, stats, logs and
 * teardown. Needs root, containerd, runc and the CNI plugins; skipped otherwise.
 */
import { readFile } from 'node:fs/promises';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import type { PodSandboxConfig } from '../../../node-agent/cri/types';
import { NotFoundError } from '../../../messages/errors';
import { expectedCpu, readCgroupLimits } from '../../helpers/cgroups';
import { containerdE2eUnavailable, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping CRI e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);


suite('CRI runtime on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;

  beforeAll(async () => {
    ns = await createNetns('mkcri');
    ctrd = await startTestContainerd({ netns: ns });
  });

  afterAll(async () => {
    await ctrd?.stop();
    await ns?.destroy();
  });

  it('answers Version and Status with the runtime ready', async () => {
    const v = await ctrd.cri.version();
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
    const s = await ctrd.cri.status();
    const ready = s.status?.conditions.find((c) => c.type === 'RuntimeReady');
    expect(ready?.status).toBe(true);
  });

  it('runs a busybox pod: HTTP, exec, stats, logs, then removes it', async () => {
    const { cri } = ctrd;
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name: 'web', uid: 'uid-web-1', namespace: 'default', attempt: 0 },
      hostname: 'web',
      logDirectory: `${ctrd.dataDir}/pods/default_web_uid-web-1`,
      labels: { 'mk.io/pod-uid': 'uid-web-1' },
      annotations: { note: 'e2e' },
      linux: { cgroupParent: ctrd.cgroupParent, securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    let t0 = Date.now();
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const runMs = Date.now() - t0;

    const sb = await cri.podSandboxStatus({ podSandboxId });
    expect(sb.status?.state).toBe('SANDBOX_READY');
    expect(sb.status?.labels['mk.io/pod-uid']).toBe('uid-web-1');
    expect(sb.status?.annotations.note).toBe('e2e');
    const podIP = sb.status?.network?.ip ?? '';
    expect(podIP).toMatch(new RegExp(`^${ctrd.podCIDR.split('.').slice(0, 3).join('\\.')}\\.\\d+$`));

    t0 = Date.now();
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig,
      config: {
        metadata: { name: 'httpd', attempt: 0 },
        image: { image: BUSYBOX_IMAGE },
        command: ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && echo started && exec httpd -f -p 8080 -h /www'],
        envs: [{ key: 'GREETING', value: 'hi' }],
        labels: { 'mk.io/container': 'httpd' },
        logPath: 'httpd/0.log',
        linux: { resources: { cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 512, memoryLimitInBytes: 64 * 1024 * 1024 } },
      },
    });
    await cri.startContainer({ containerId });
    const createStartMs = Date.now() - t0;
    console.log(`RunPodSandbox ${runMs} ms; CreateContainer+StartContainer ${createStartMs} ms`);

    const st = (await cri.containerStatus({ containerId })).status;
    expect(st?.state).toBe('CONTAINER_RUNNING');
    expect(st?.metadata?.name).toBe('httpd');
    expect(st?.startedAt).toBeGreaterThan(0);
    // CRI reports one of the image's tags (the same image also has the busybox version tag).
    expect(st?.image?.image).toMatch(/^docker\.io\/library\/busybox:/);
    expect(st?.logPath).toBe(`${sandboxConfig.logDirectory}/httpd/0.log`);
    // Resources reach the container's cgroup (cgroupfs driver), on whichever cgroup version the host runs.
    const limits = await readCgroupLimits(`${ctrd.cgroupParent}/${containerId}`);
    console.log(`cgroup v${limits.version}: ${JSON.stringify(limits)}`);
    expect(limits).toEqual({
      version: limits.version, memoryLimitBytes: 64 * 1024 * 1024, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpu: expectedCpu(limits.version, 512),
    });

    // From inside the node's namespace, like a kubelet probe or a host process would.
    const body = await until('httpd to answer', async () => {
      // No `-T`: Debian's busybox 1.35 wget segfaults with it; runInNetns has its own deadline.
      const r = await ns.run(['/bin/busybox', 'wget', '-qO-', `http://${podIP}:8080/`], { timeoutMs: 5_000 });
      if (r.code !== 0) throw new Error(`wget exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    });
    expect(body.trim()).toBe('hello');

    const hi = await cri.execSync({ containerId, cmd: ['sh', '-c', 'echo $GREETING'], timeout: 10 });
    expect(hi.stdout.toString().trim()).toBe('hi');
    expect(hi.exitCode).toBe(0);
    const echo = await cri.execSync({ containerId, cmd: ['echo', 'hi'], timeout: 10 });
    expect(echo.stdout.toString()).toBe('hi\n');
    const three = await cri.execSync({ containerId, cmd: ['sh', '-c', 'echo oops >&2; exit 3'], timeout: 10 });
    expect(three.exitCode).toBe(3);
    expect(three.stderr.toString().trim()).toBe('oops');

    const stats = await until('stats with cpu and memory', async () => {
      const s = (await cri.containerStats({ containerId })).stats;
      return s?.cpu?.usageCoreNanoSeconds && s.memory?.workingSetBytes ? s : undefined;
    });
    expect(stats.cpu?.usageCoreNanoSeconds?.value).toBeGreaterThan(0);
    expect(stats.memory?.workingSetBytes?.value).toBeGreaterThan(0);
    expect(stats.attributes?.id).toBe(containerId);
    const listed = await cri.listContainerStats({ filter: { podSandboxId } });
    expect(listed.stats.map((s) => s.attributes?.id)).toContain(containerId);

    // CRI log format: "<RFC3339Nano> <stdout|stderr> <F|P> <text>".
    const log = await until('the log line', async () => {
      const text = await readFile(st?.logPath ?? '', 'utf8').catch(() => '');
      return text.includes('started') ? text : undefined;
    });
    expect(log.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\S* stdout F started$/);

    const byLabel = await cri.listContainers({ filter: { labelSelector: { 'mk.io/container': 'httpd' } } });
    expect(byLabel.containers.map((c) => c.id)).toEqual([containerId]);
    expect(byLabel.containers[0].state).toBe('CONTAINER_RUNNING');

    await cri.stopContainer({ containerId, timeout: 5 });
    const exited = (await cri.containerStatus({ containerId })).status;
    expect(exited?.state).toBe('CONTAINER_EXITED');
    expect(exited?.finishedAt).toBeGreaterThan(0);
    await cri.removeContainer({ containerId });
    await expect(cri.containerStatus({ containerId })).rejects.toThrow(NotFoundError);

    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
    expect((await cri.listPodSandbox({})).items).toEqual([]);
    expect((await cri.listContainers({})).containers).toEqual([]);
  });

  it('reports a container that exits with its exit code and reason', async () => {
    const { cri } = ctrd;
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name: 'job', uid: 'uid-job-1', namespace: 'default' }, hostname: 'job',
      logDirectory: `${ctrd.dataDir}/pods/job`, linux: { cgroupParent: ctrd.cgroupParent },
    };
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await cri.createContainer({
      podSandboxId, sandboxConfig,
      config: { metadata: { name: 'fail' }, image: { image: 'docker.io/library/busybox:latest' }, command: ['sh', '-c', 'exit 7'], logPath: 'fail.log' },
    });
    await cri.startContainer({ containerId });
    const st = await until('the container to exit', async () => {
      const s = (await cri.containerStatus({ containerId })).status;
      return s?.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    expect(st.exitCode).toBe(7);
    expect(st.reason).toBe('Error');
    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
  });

  it('maps a missing container to NotFoundError', async () => {
    await expect(ctrd.cri.containerStatus({ containerId: 'does-not-exist' })).rejects.toThrow(NotFoundError);
  });
});
