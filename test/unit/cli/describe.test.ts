import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeNamespace as rawNamespace, describeNode as rawNode } from '../../../messages/printing/describe-node';
import { describePod as rawPod } from '../../../messages/printing/describe-pod';
import { rfc1123z, setDisplayTimeZone } from '../../../messages/printing/time';
import type { Lease, Node, Pod } from '../../../messages';

// Describers return tab-separated cells; the CLI aligns them as kubectl's describe does.
const align = (text: string): string => tabwrite(text, DESCRIBE_TABWRITER);
const describePod = (...a: Parameters<typeof rawPod>): string => align(rawPod(...a));
const describeNode = (...a: Parameters<typeof rawNode>): string => align(rawNode(...a));
const describeNamespace = (...a: Parameters<typeof rawNamespace>): string => align(rawNamespace(...a));

const NOW = Date.parse('2024-05-01T12:00:00Z');
// Describe prints the host's local time, as kubectl does; the expectations below are for UTC,
// whatever the host's zone. Set before any description is made (describe blocks run at collection).
setDisplayTimeZone('UTC');
afterAll(() => setDisplayTimeZone(undefined));

describe('rfc1123z', () => {
  it('prints the time and offset of the zone', () => {
    expect(rfc1123z('2024-05-01T11:00:01Z', 'Asia/Kolkata')).toBe('Wed, 01 May 2024 16:30:01 +0530');
    expect(rfc1123z('2024-01-01T03:04:05Z', 'America/New_York')).toBe('Sun, 31 Dec 2023 22:04:05 -0500');
    expect(rfc1123z('2024-05-01T11:00:01Z')).toBe('Wed, 01 May 2024 11:00:01 +0000');
  });

  it('refuses an unknown zone', () => {
    expect(() => setDisplayTimeZone('Mars/Olympus')).toThrow(RangeError);
  });
});

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'demo', namespace: 'default', uid: 'u1', labels: { app: 'demo', tier: 'web' }, creationTimestamp: '2024-05-01T11:00:00Z' },
  spec: {
    nodeName: 'node-1',
    nodeSelector: { disk: 'ssd' },
    initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'echo hi'] }],
    containers: [{
      name: 'web', image: 'busybox:latest', command: ['httpd'], args: ['-f', '-p', '8080'],
      ports: [{ containerPort: 8080 }],
      env: [{ name: 'GREETING', value: 'hello' }],
      resources: { limits: { cpu: '200m', memory: '64Mi' }, requests: { cpu: '50m', memory: '16Mi' } },
    }],
  },
  status: {
    phase: 'Running', hostIP: '192.168.1.2', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], startTime: '2024-05-01T11:00:01Z',
    conditions: [
      { type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' },
      { type: 'ContainersReady', status: 'True' }, { type: 'PodScheduled', status: 'True' },
    ],
    initContainerStatuses: [{
      name: 'setup', image: 'busybox', imageID: 'sha256:abc', containerID: 'containerd://111', ready: false, restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2024-05-01T11:00:02Z', finishedAt: '2024-05-01T11:00:03Z' } }, lastState: {},
    }],
    containerStatuses: [{
      name: 'web', image: 'busybox:latest', imageID: 'sha256:abc', containerID: 'containerd://222', ready: true, restartCount: 1,
      state: { running: { startedAt: '2024-05-01T11:00:10Z' } },
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2024-05-01T11:00:04Z', finishedAt: '2024-05-01T11:00:09Z' } },
    }],
  },
};

describe('describePod', () => {
  const out = describePod(pod, undefined, NOW);
  const lines = out.split('\n');

  it('prints the header block aligned like kubectl', () => {
    expect(lines.slice(0, 10)).toEqual([
      'Name:         demo',
      'Namespace:    default',
      'Node:         node-1/192.168.1.2',
      'Start Time:   Wed, 01 May 2024 11:00:01 +0000',
      'Labels:       app=demo',
      '              tier=web',
      'Annotations:  <none>',
      'Status:       Running',
      'IP:           10.244.0.5',
      'IPs:',
    ]);
    expect(lines[10]).toBe('  IP:  10.244.0.5');
  });

  it('describes init and app containers with state, last state and resources', () => {
    expect(out).toContain('Init Containers:\n  setup:\n    Container ID:  containerd://111\n');
    expect(out).toContain('    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\n');
    expect(out).toContain('Containers:\n  web:\n');
    expect(out).toContain('    Port:          8080/TCP\n    Host Port:     0/TCP\n');
    expect(out).toContain('    Command:\n      httpd\n    Args:\n      -f\n      -p\n      8080\n');
    expect(out).toContain('    State:          Running\n      Started:      Wed, 01 May 2024 11:00:10 +0000\n');
    expect(out).toContain('    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n');
    expect(out).toContain('    Ready:          True\n    Restart Count:  1\n');
    expect(out).toContain('    Limits:\n      cpu:     200m\n      memory:  64Mi\n    Requests:\n      cpu:     50m\n      memory:  16Mi\n');
    expect(out).toContain('    Environment:\n      GREETING:  hello\n');
  });

  it('ends with conditions, QoS, node selectors and events', () => {
    expect(out).toContain('Conditions:\n  Type              Status\n  Initialized       True \n  Ready             True \n  ContainersReady   True \n  PodScheduled      True \n');
    expect(out).toMatch(/QoS Class:\s+Burstable\nNode-Selectors:\s+disk=ssd\nTolerations:\s+<none>\nEvents:\s+<none>\n$/);
  });

  it('shows Terminating with the time left and an events table when given', () => {
    const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(NOW + 25_000).toISOString(), deletionGracePeriodSeconds: 30 } };
    const text = describePod(deleting, [
      { type: 'Normal', reason: 'Scheduled', message: 'assigned to node-1', source: { component: 'scheduler' }, count: 1, lastTimestamp: new Date(NOW - 60_000).toISOString() },
      { type: 'Warning', reason: 'BackOff', message: 'restarting', source: { component: 'node-1' }, count: 3, firstTimestamp: new Date(NOW - 300_000).toISOString(), lastTimestamp: new Date(NOW - 10_000).toISOString() },
    ], NOW);
    expect(text).toMatch(/Status:\s+Terminating \(lasts 25s\)\nTermination Grace Period:\s+30s\n/);
    expect(text).toContain('Events:\n  Type     Reason     Age               From       Message\n  ----     ------     ----              ----       -------\n'
      + '  Normal   Scheduled  60s               scheduler  assigned to node-1\n'
      + '  Warning  BackOff    10s (x3 over 5m)  node-1     restarting\n');
  });

  it('copes with a pod that has no status yet', () => {
    const bare: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const text = describePod(bare, undefined, NOW);
    expect(text).toMatch(/^Name:\s+x\nNamespace:\s+default\nNode:\s+<none>\n/);
    expect(text).toMatch(/IPs:\s+<none>\n/);
    expect(text).toMatch(/QoS Class:\s+BestEffort\n/);
    expect(text).not.toContain('Container ID');
  });

  it('prints probes one a line, as kubectl does', () => {
    const probed: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' },
      spec: {
        containers: [{
          name: 'c', image: 'busybox', ports: [{ name: 'web', containerPort: 8080 }],
          livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, initialDelaySeconds: 5, periodSeconds: 3 },
          readinessProbe: { httpGet: { path: '/ready', port: 'web' }, successThreshold: 2 },
          startupProbe: { tcpSocket: { port: 8080 }, failureThreshold: 30 },
        }],
      },
    };
    const text = describePod(probed, undefined, NOW);
    expect(text).toContain('    Liveness:     exec [cat /tmp/alive] delay=5s timeout=1s period=3s #success=1 #failure=3\n'
      + '    Readiness:    http-get http://:web/ready delay=0s timeout=1s period=10s #success=2 #failure=3\n'
      + '    Startup:      tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=30\n'
      + '    Environment:');
  });
});

describe('describePod tolerations', () => {
  it('prints them as kubectl does, one a line', () => {
    const tolerated = { ...pod, spec: { ...pod.spec, tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 300 },
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const },
      { operator: 'Exists' as const },
    ] } };
    expect(describePod(tolerated, undefined, NOW)).toMatch(
      /\nTolerations:\s+node\.kubernetes\.io\/not-ready:NoExecute op=Exists for 300s\n\s+dedicated=gpu:NoSchedule\n\s+op=Exists\nEvents:/,
    );
  });
});

describe('describeNode', () => {
  const node: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: 'node-1', creationTimestamp: '2024-05-01T10:00:00Z', labels: { 'kubernetes.io/hostname': 'node-1' } },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'NodeReady', message: 'node agent is posting ready status', lastHeartbeatTime: '2024-05-01T11:59:50Z', lastTransitionTime: '2024-05-01T10:00:05Z' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.2' }, { type: 'Hostname', address: 'node-1' }],
      nodeInfo: { kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12', architecture: 'amd64', containerRuntimeVersion: 'containerd://1.6.20', kubeletVersion: 'mk-0.1.0' },
    },
  };

  it('lists conditions, addresses, capacity, system info and the pods with their share of the node', () => {
    const out = describeNode(node, [pod], undefined, NOW);
    expect(out).toMatch(/^Name:\s+node-1\nRoles:\s+<none>\nLabels:\s+kubernetes.io\/hostname=node-1\n/);
    expect(out).toMatch(/ {2}Ready\s+True\s+Wed, 01 May 2024 11:59:50 \+0000\s+Wed, 01 May 2024 10:00:05 \+0000\s+NodeReady\s+node agent is posting ready status\n/);
    expect(out).toContain('Addresses:\n  InternalIP:  192.168.1.2\n  Hostname:    node-1\n');
    expect(out).toContain('Capacity:\n  cpu:     2\n  memory:  4Gi\n  pods:    110\n');
    expect(out).toMatch(/PodCIDR:\s+10\.244\.0\.0\/24\n/);
    expect(out).toMatch(/Non-terminated Pods:\s+\(1 in total\)\n/);
    expect(out).toMatch(/ {2}default\s+demo\s+50m \(2%\)\s+200m \(10%\)\s+16Mi \(0%\)\s+64Mi \(1%\)\s+60m\n/);
    expect(out).toMatch(/ {2}cpu\s+50m \(2%\)\s+200m \(10%\)\n {2}memory\s+16Mi \(0%\)\s+64Mi \(1%\)\n/);
    expect(out).toMatch(/Events:\s+<none>\n$/);
    expect(out).toMatch(/Taints:\s+<none>\n/);
  });

  it('lists taints one a line, and ephemeral-storage and GPUs among the allocated resources', () => {
    const gpuNode: Node = {
      ...node,
      spec: { ...node.spec, unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-05-01T11:00:00Z' }, { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      status: { ...node.status, allocatable: { ...node.status!.allocatable, 'ephemeral-storage': '10Gi', 'nvidia.com/gpu': '2' } },
    };
    const gpuPod = { ...pod, spec: { ...pod.spec, containers: [{ name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': '1', 'ephemeral-storage': '1Gi' } } }] } } as unknown as typeof pod;
    const out = describeNode(gpuNode, [gpuPod], undefined, NOW);
    expect(out).toMatch(/Taints:\s+node\.kubernetes\.io\/unreachable:NoExecute\n\s+dedicated=gpu:NoSchedule\nUnschedulable:\s+true\n/);
    expect(out).toMatch(/ {2}ephemeral-storage\s+1Gi \(10%\)\s+1Gi \(10%\)\n {2}nvidia\.com\/gpu\s+1\s+1\n/);
  });

  it('shows the heartbeat lease like kubectl, <unset> without one', () => {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'node-1', acquireTime: '2024-05-01T10:00:05.000000Z', renewTime: '2024-05-01T11:59:55.000000Z' },
    };
    expect(describeNode(node, [], undefined, NOW, lease)).toMatch(
      /Unschedulable:\s+false\nLease:\n {2}HolderIdentity:\s+node-1\n {2}AcquireTime:\s+Wed, 01 May 2024 10:00:05 \+0000\n {2}RenewTime:\s+Wed, 01 May 2024 11:59:55 \+0000\nConditions:/,
    );
    expect(describeNode(node, [], undefined, NOW)).toMatch(/Lease:\n {2}HolderIdentity:\s+<unset>\n {2}AcquireTime:\s+<unset>\n {2}RenewTime:\s+<unset>\n/);
  });
});

describe('describeNamespace', () => {
  it('prints name, labels, annotations and status', () => {
    expect(describeNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })).toBe(
      'Name:         default\nLabels:       <none>\nAnnotations:  <none>\nStatus:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n',
    );
  });
});

describe('describePod topology spread constraints', () => {
  it('prints them after the tolerations, one a line, as kubectl does', () => {
    const spread: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' },
      spec: {
        containers: [{ name: 'c', image: 'busybox' }],
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } },
          { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
        ],
      },
    };
    expect(describePod(spread, undefined, NOW)).toMatch(new RegExp(
      'Tolerations:\\s+<none>\\n'
      + 'Topology Spread Constraints:  topology.kubernetes.io/zone:DoNotSchedule when max skew 1 is exceeded for selector app=web\\n'
      + '\\s+kubernetes.io/hostname:ScheduleAnyway when max skew 2 is exceeded\\n'
      + 'Events:',
    ));
  });
});
