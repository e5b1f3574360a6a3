import { makePod } from './fixtures';
import { buildContainerConfig, buildSandboxConfig, containerResources, containerSpecHash, podCgroupParent } from './cri-spec';

describe('cri-spec', () => {
  it('builds the sandbox config with identity labels, log directory, cgroup parent and host ports', () => {
    const pod = makePod({ containers: [{ name: 'web', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 9090 }] }] });
    const dns = { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] };
    expect(buildSandboxConfig(pod, { podLogsRoot: '/var/log/pods/', dnsConfig: dns }, 2)).toEqual({
      metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 2 },
      hostname: 'web',
      logDirectory: '/var/log/pods/default_web_uid-1',
      dnsConfig: dns,
      portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 8080 }],
      labels: { 'mk.io/pod-uid': 'uid-1', 'mk.io/pod-name': 'web', 'mk.io/pod-namespace': 'default' },
      annotations: {},
      linux: { cgroupParent: '/kubepods/besteffort/poduid-1' },
    });
  });

  it('puts the pod cgroup under its QoS class; Guaranteed directly under /kubepods', () => {
    const res = (requests: Record<string, string> | undefined, limits: Record<string, string> | undefined) => makePod({ containers: [{ name: 'a', image: 'busybox', resources: { requests, limits } }] });
    expect(podCgroupParent(res(undefined, undefined))).toBe('/kubepods/besteffort/poduid-1');
    expect(podCgroupParent(res({ cpu: '100m' }, undefined))).toBe('/kubepods/burstable/poduid-1');
    expect(podCgroupParent(res(undefined, { cpu: '1', memory: '64Mi' }))).toBe('/kubepods/poduid-1');
    // A node sharing the machine with others keeps its pods under a cgroup of its own.
    expect(podCgroupParent(res(undefined, undefined), '/mk-abc123-2')).toBe('/mk-abc123-2/kubepods/besteffort/poduid-1');
    expect(podCgroupParent(res(undefined, { cpu: '1', memory: '64Mi' }), '/mk-abc123-2/')).toBe('/mk-abc123-2/kubepods/poduid-1');
  });

  it('derives cpu shares, quota and memory limit like kubelet', () => {
    expect(containerResources({ name: 'a', image: 'i' })).toEqual({ cpuShares: 2 });
    expect(containerResources({ name: 'a', image: 'i', resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } } }))
      .toEqual({ cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 64 * 1024 * 1024 });
    // A limit alone counts as the request; tiny values hit kubelet's minimums.
    expect(containerResources({ name: 'a', image: 'i', resources: { limits: { cpu: '1m' } } })).toEqual({ cpuShares: 2, cpuPeriod: 100_000, cpuQuota: 1000 });
  });

  it('builds the container config with labels, annotations and the log path', () => {
    const pod = makePod({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c'], args: ['echo hi'], workingDir: '/tmp', env: [{ name: 'A', value: '1' }, { name: 'B' }] }] });
    const c = pod.spec.containers[0];
    const cfg = buildContainerConfig(pod, c, 3);
    expect(cfg).toEqual({
      metadata: { name: 'app', attempt: 3 },
      image: { image: 'busybox' },
      command: ['sh', '-c'], args: ['echo hi'], workingDir: '/tmp',
      envs: [{ key: 'A', value: '1' }, { key: 'B', value: '' }],
      labels: { 'mk.io/pod-uid': 'uid-1', 'mk.io/pod-name': 'web', 'mk.io/pod-namespace': 'default', 'mk.io/container-name': 'app' },
      annotations: { 'mk.io/container-hash': containerSpecHash(c), 'mk.io/container-image': 'busybox', 'mk.io/restart-count': '3' },
      logPath: 'app/3.log',
      linux: { resources: { cpuShares: 2 } },
    });
    expect(containerSpecHash({ image: 'busybox', name: 'app' })).toBe(containerSpecHash({ name: 'app', image: 'busybox' }));
    expect(containerSpecHash({ name: 'app', image: 'busybox:2' })).not.toBe(containerSpecHash({ name: 'app', image: 'busybox' }));
  });

  it('cuts long hostnames to 63 characters', () => {
    const pod = makePod({}, { name: `${'a'.repeat(62)}-bbbb` });
    expect(buildSandboxConfig(pod, { podLogsRoot: '/l' }, 0).hostname).toBe('a'.repeat(62));
  });
});

describe('cri-spec with GPUs', () => {
  it('adds the GPU devices, mounts, env and annotation; the container\'s own env wins', () => {
    const c = { name: 'app', image: 'busybox', env: [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'all' }] };
    const pod = makePod({ containers: [c] }, { uid: 'u1' });
    const config = buildContainerConfig(pod, c, 0, 0, {
      hostsPath: '/h/hosts',
      gpu: {
        devices: [{ hostPath: '/fake/nvidia1', containerPath: '/dev/nvidia1', permissions: 'rw' }],
        mounts: [{ hostPath: '/usr/bin/nvidia-smi', containerPath: '/usr/bin/nvidia-smi', readonly: true }],
        envs: [{ key: 'NVIDIA_VISIBLE_DEVICES', value: '1' }, { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility' }],
        annotations: { 'mk.io/gpu-devices': '1' },
      },
    });
    expect(config.devices).toEqual([{ hostPath: '/fake/nvidia1', containerPath: '/dev/nvidia1', permissions: 'rw' }]);
    expect(config.mounts?.map((m) => m.containerPath)).toEqual(['/etc/hosts', '/usr/bin/nvidia-smi']);
    expect(config.envs).toEqual([{ key: 'NVIDIA_VISIBLE_DEVICES', value: '1' }, { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'all' }]);
    expect(config.annotations?.['mk.io/gpu-devices']).toBe('1');
    expect(buildContainerConfig(pod, c, 0).devices).toBeUndefined();
  });
});

describe('cri-spec with volume mounts', () => {
  const c = { name: 'app', image: 'busybox' };
  const pod = makePod({ containers: [c] }, { uid: 'u1' });
  const data = { containerPath: '/data', hostPath: '/pods/u1/volumes/empty-dir/data', readonly: false, propagation: 'PROPAGATION_PRIVATE' as const };

  it('mounts the volumes after the node\'s /etc/hosts', () => {
    const config = buildContainerConfig(pod, c, 0, 0, { hostsPath: '/h/hosts', volumeMounts: [data] });
    expect(config.mounts).toEqual([{ containerPath: '/etc/hosts', hostPath: '/h/hosts' }, data]);
    expect(buildContainerConfig(pod, c, 0, 0, { volumeMounts: [data] }).mounts).toEqual([data]);
    expect(buildContainerConfig(pod, c, 0, 0, { volumeMounts: [] }).mounts).toBeUndefined();
  });

  it('leaves /etc/hosts to a volume mounted there', () => {
    const hosts = { containerPath: '/etc/hosts', hostPath: '/pods/u1/volumes/configmap/hosts/hosts', readonly: true };
    expect(buildContainerConfig(pod, c, 0, 0, { hostsPath: '/h/hosts', volumeMounts: [hosts] }).mounts).toEqual([hosts]);
  });
});
