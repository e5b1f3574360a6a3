/**
 * The node commands through the built CLI against a real nats-server and control plane: mk cordon
 * and uncordon, mk taint nodes, mk drain, and mk get nodes -o wide. The test plays the node
 * agents: it registers the nodes, heartbeats, and finishes the deletion of pods marked on n1 and
 * n2 as an agent does once it has stopped them (n3 never does: a drain there times out).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, nodeApiSubject, type GetResult, type ListResult, type Node, type Pod } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { ensureBuilt, runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

const USER = 'admin';
const PASS = 'test-password-0123456789';
const NODES = ['n1', 'n2', 'n3'];
const AGENTS = new Set(['n1', 'n2']);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dataDir: string;
let agent: NodeJS.Timeout | undefined;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dataDir } });
const getNode = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'nodes', name })).object as Node;
const getPod = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'pods', name })).object as Pod;
const status = (name: string) => ({
  capacity: { cpu: '2', memory: '4Gi', pods: '110' },
  allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
  addresses: [{ type: 'InternalIP', address: `10.0.0.${name.slice(1)}` }, { type: 'Hostname', address: name }],
  nodeInfo: { kernelVersion: '6.1.0-test', osImage: 'Debian GNU/Linux 12', architecture: 'amd64', containerRuntimeVersion: 'containerd://1.6.20', kubeletVersion: 'mk-0.1.0' },
});
const pod = (name: string, node: string, owner?: string) => request(bus, API.apply, {
  object: {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'owner', uid: `uid-${owner}`, controller: true }] } : {}) },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  },
});

/** The agents' side: heartbeats, and removing pods marked for deletion on n1 and n2. */
async function agentTick(): Promise<void> {
  for (const n of NODES) await request(bus, nodeApiSubject(n, 'heartbeat'), { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } }).catch(() => undefined);
  const pods = (await request<ListResult>(bus, API.list, { kind: 'pods' })).items as unknown as Pod[];
  for (const p of pods) {
    if (!p.metadata.deletionTimestamp || !AGENTS.has(p.spec.nodeName ?? '')) continue;
    await request(bus, nodeApiSubject(p.spec.nodeName!, 'pod-terminated'), { namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid }).catch(() => undefined);
  }
}

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-node-cli' } });
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'node-cli-test' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-node-cli-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'n1' }), { mode: 0o600 });
  for (const n of NODES) await request(bus, nodeApiSubject(n, 'register'), { status: status(n), labels: { 'kubernetes.io/hostname': n } });
  let busy = false;
  agent = setInterval(() => {
    if (busy) return;
    busy = true;
    // A tick that fails (the api out of reach for a moment) is the next one's to redo, as for an
    // agent; a test that needs what it did waits for that with a deadline.
    agentTick().catch(() => undefined).finally(() => { busy = false; });
  }, 200);
  for (const n of NODES) await waitFor(`${n} Ready`, async () => (await getNode(n)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && !(await getNode(n)).spec?.taints);
}, 300_000);

afterAll(async () => {
  clearInterval(agent);
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('mk cordon and uncordon', () => {
  it('marks a node unschedulable and back, saying when it already was', async () => {
    expect(await mk(['cordon', 'n1'])).toEqual({ code: 0, stdout: 'node/n1 cordoned\n', stderr: '' });
    expect((await getNode('n1')).spec?.unschedulable).toBe(true);
    expect((await mk(['cordon', 'n1'])).stdout).toBe('node/n1 already cordoned\n');
    const get = await mk(['get', 'nodes', 'n1']);
    expect(get.stdout.split('\n')[1]).toMatch(/^n1\s+Ready,SchedulingDisabled\s/);
    // The control plane taints a cordoned node, as Kubernetes does.
    await waitFor('the unschedulable taint', async () => (await getNode('n1')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable'));
    expect(await mk(['uncordon', 'n1'])).toEqual({ code: 0, stdout: 'node/n1 uncordoned\n', stderr: '' });
    expect((await getNode('n1')).spec?.unschedulable).toBeUndefined();
    expect((await mk(['uncordon', 'n1'])).stdout).toBe('node/n1 already uncordoned\n');
    await waitFor('no taint', async () => !(await getNode('n1')).spec?.taints);
  });

  it('takes nodes by label selector, and wants names or a selector', async () => {
    expect(await mk(['cordon', '-l', 'kubernetes.io/hostname=n2'])).toEqual({ code: 0, stdout: 'node/n2 cordoned\n', stderr: '' });
    expect(await mk(['uncordon', '-l', 'kubernetes.io/hostname=n2'])).toEqual({ code: 0, stdout: 'node/n2 uncordoned\n', stderr: '' });
    expect(await mk(['cordon', '-l', 'kubernetes.io/hostname=none'])).toEqual({ code: 0, stdout: '', stderr: 'No resources found\n' });
    expect(await mk(['cordon'])).toEqual({ code: 1, stdout: '', stderr: 'error: you must provide one or more nodes: NODE..., or -l SELECTOR\n' });
    expect((await mk(['cordon', 'n1', '-l', 'a=b'])).stderr).toBe('error: node names cannot be given together with --selector\n');
    expect(await mk(['taint', 'nodes', '-l', 'kubernetes.io/hostname=n3', 'zone=a:PreferNoSchedule'])).toEqual({ code: 0, stdout: 'node/n3 tainted\n', stderr: '' });
    expect((await getNode('n3')).spec?.taints).toEqual([{ key: 'zone', value: 'a', effect: 'PreferNoSchedule' }]);
    expect((await mk(['taint', 'nodes', '-l', 'kubernetes.io/hostname=n3', 'zone-'])).stdout).toBe('node/n3 untainted\n');
  });

  it('fails with NotFound for a missing node and still does the others', async () => {
    const r = await mk(['cordon', 'nope', 'n2']);
    expect(r).toEqual({ code: 1, stdout: 'node/n2 cordoned\n', stderr: 'Error from server (NotFound): nodes "nope" not found\n' });
    expect((await mk(['uncordon', 'n2'])).code).toBe(0);
  });
});

describe('mk taint nodes', () => {
  it('adds, refuses a duplicate without --overwrite, overwrites, shows and removes taints', async () => {
    expect(await mk(['taint', 'nodes', 'n1', 'dedicated=gpu:NoSchedule'])).toEqual({ code: 0, stdout: 'node/n1 tainted\n', stderr: '' });
    expect((await getNode('n1')).spec?.taints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    const dup = await mk(['taint', 'node', 'n1', 'dedicated=cpu:NoSchedule']);
    expect(dup).toEqual({ code: 1, stdout: '', stderr: 'error: node n1 already has dedicated taint(s) with same effect(s) and --overwrite is false\n' });
    expect((await mk(['taint', 'no', 'n1', 'dedicated=cpu:NoSchedule', '--overwrite'])).stdout).toBe('node/n1 tainted\n');
    expect((await getNode('n1')).spec?.taints).toEqual([{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }]);
    expect((await mk(['describe', 'node', 'n1'])).stdout).toMatch(/\nTaints:\s+dedicated=cpu:NoSchedule\nUnschedulable:\s+false\n/);
    expect(await mk(['taint', 'nodes', 'n1', 'dedicated-'])).toEqual({ code: 0, stdout: 'node/n1 untainted\n', stderr: '' });
    expect((await getNode('n1')).spec?.taints).toBeUndefined();
    expect(await mk(['taint', 'nodes', 'n1', 'dedicated:NoSchedule-'])).toEqual({ code: 1, stdout: '', stderr: 'error: taint "dedicated:NoSchedule" not found on node n1\n' });
  });

  it('refuses a bad effect or key before writing anything', async () => {
    const before = (await getNode('n1')).spec;
    const effect = await mk(['taint', 'nodes', 'n1', 'ok=1:NoSchedule', 'k=v:Never']);
    expect(effect).toEqual({ code: 1, stdout: '', stderr: 'error: invalid taint spec "k=v:Never": unsupported taint effect "Never": must be one of NoSchedule, PreferNoSchedule, NoExecute\n' });
    const key = await mk(['taint', 'nodes', 'n1', 'bad key=v:NoSchedule']);
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(/^error: invalid taint spec "bad key=v:NoSchedule": invalid key "bad key"/);
    expect((await mk(['taint', 'pods', 'p', 'k=v:NoSchedule'])).stderr).toMatch(/taints are for nodes only/);
    // Heartbeats move the resourceVersion; the spec is what a taint would have changed.
    expect((await getNode('n1')).spec).toEqual(before);
    expect(before?.taints).toBeUndefined();
  });

  it('evicts the pods that do not tolerate a NoExecute taint, stamped with the time it was added', async () => {
    await pod('intolerant', 'n2', 'ReplicaSet');
    expect((await mk(['taint', 'nodes', 'n2', 'maintenance=now:NoExecute'])).code).toBe(0);
    expect((await getNode('n2')).spec?.taints?.[0]).toMatchObject({ key: 'maintenance', effect: 'NoExecute', timeAdded: expect.any(String) });
    await waitFor('intolerant gone', async () => getPod('intolerant').then(() => false, () => true), 15_000);
    expect((await mk(['taint', 'nodes', 'n2', 'maintenance:NoExecute-'])).stdout).toBe('node/n2 untainted\n');
  });
});

describe('mk drain', () => {
  let dsPod = '';
  it('cordons, then refuses pods no controller manages and DaemonSet pods, evicting nothing', async () => {
    await pod('bare', 'n1');
    // A real DaemonSet: the garbage collector removes a pod whose DaemonSet owner does not exist.
    await request(bus, API.apply, {
      object: {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' },
        spec: { selector: { matchLabels: { app: 'ds' } }, template: {
          metadata: { labels: { app: 'ds' } },
          spec: {
            // On n1 only: n3, drained below, has no agent to remove a daemon pod.
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } },
            containers: [{ name: 'c', image: 'busybox' }],
          },
        } },
      },
    });
    dsPod = await waitFor('the DaemonSet\'s pod on n1', async () => ((await request<ListResult>(bus, API.list, { kind: 'pods' })).items as unknown as Pod[])
      .find((p) => p.spec.nodeName === 'n1' && p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet'))?.metadata.name);
    // Managed by a controller of a kind mk does not serve, so the garbage collector leaves the pod
    // alone although its owner does not exist (a StatefulSet owner that is not there would be).
    await pod('managed', 'n1', 'ReplicationController');
    const r = await mk(['drain', 'n1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('node/n1 cordoned\n');
    expect(r.stderr).toBe(`error: unable to drain node "n1": cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/${dsPod}; `
      + 'cannot delete Pods that declare no controller (use --force to override): default/bare\n');
    for (const p of ['bare', dsPod, 'managed']) expect((await getPod(p)).metadata.deletionTimestamp).toBeUndefined();
  });

  it('evicts with --force and --ignore-daemonsets, waits until the pods are gone, and leaves DaemonSet pods', async () => {
    const r = await mk(['drain', 'n1', '--force', '--ignore-daemonsets', '--grace-period=1', '--timeout=30s', '--delete-emptydir-data']);
    expect(r.stderr).toBe(`Warning: ignoring DaemonSet-managed Pods: default/${dsPod}\nWarning: deleting Pods that declare no controller: default/bare\n`);
    expect(r.stdout.split('\n').filter((l) => !l.endsWith(' evicted'))).toEqual(['node/n1 already cordoned', 'evicting pod default/bare', 'evicting pod default/managed', 'node/n1 drained', '']);
    expect(r.stdout.split('\n').filter((l) => l.endsWith(' evicted')).sort()).toEqual(['pod/bare evicted', 'pod/managed evicted']);
    expect(r.code).toBe(0);
    expect((await getPod(dsPod)).metadata.deletionTimestamp).toBeUndefined();
    for (const p of ['bare', 'managed']) expect(await getPod(p).then(() => 'there', () => 'gone')).toBe('gone');
    expect((await getNode('n1')).spec?.unschedulable).toBe(true);
    expect((await mk(['uncordon', 'n1'])).code).toBe(0);
  });

  it('gives up at --timeout when a pod does not go, and refuses a bad --timeout', async () => {
    await pod('stuck', 'n3', 'ReplicaSet');
    const r = await mk(['drain', 'n3', '--timeout=2s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('node/n3 cordoned\nevicting pod default/stuck\n');
    expect(r.stderr).toBe('error: unable to drain node "n3": timed out after 2s waiting for the pods to be gone: default/stuck\n');
    const bad = await mk(['drain', 'n3', '--timeout=soon']);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/--timeout: "soon" is not a duration/);
  });
});

describe('mk get nodes -o wide', () => {
  it('adds INTERNAL-IP, OS-IMAGE, KERNEL-VERSION and CONTAINER-RUNTIME', async () => {
    const r = await mk(['get', 'nodes', '-o', 'wide']);
    const [head, ...rows] = r.stdout.trimEnd().split('\n');
    expect(head.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(rows[1].split(/\s{2,}/)).toEqual(['n2', 'Ready', '<none>', expect.any(String), 'mk-0.1.0', '10.0.0.2', '<none>', 'Debian GNU/Linux 12', '6.1.0-test', 'containerd://1.6.20']);
  });
});

describe('node leases', () => {
  it('lists each node\'s heartbeat lease with get leases -A, and describe node shows it', async () => {
    const r = await mk(['get', 'leases', '-A']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '));
    expect(rows).toEqual(expect.arrayContaining(NODES.map((n) => `kube-node-lease ${n} ${n}`)));
    expect((await mk(['describe', 'node', 'n2'])).stdout).toMatch(/\nLease:\n {2}HolderIdentity:\s+n2\n {2}AcquireTime:\s+\w{3}, .*\n {2}RenewTime:\s+\w{3}, /);
  });
});
