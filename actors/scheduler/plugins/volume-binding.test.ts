import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../../messages';
import { claim, storageClass, volume } from '../../volume/fixtures';
import { schedule, type SchedulingView } from '../schedule';
import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import type { NodeInfo } from './types';
import { chooseVolumes, VOLUME_REASONS, volumePreFilter, type VolumeView } from './volume-binding';

function storage(claims: PersistentVolumeClaim[], pvs: PersistentVolume[], classes: StorageClass[] = [], users: Record<string, string[]> = {}): VolumeView {
  return {
    claim: (ns, n) => claims.find((c) => c.metadata.name === n && c.metadata.namespace === ns),
    volume: (n) => pvs.find((v) => v.metadata.name === n),
    volumes: () => pvs,
    storageClass: (n) => classes.find((c) => c.metadata.name === n),
    claimUsers: (_ns, n) => new Set(users[n] ?? []),
  };
}

const onNode = (name: string) => ({
  required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In' as const, values: [name] }] }] },
});
const nodes = (): NodeInfo[] => ['n1', 'n2'].map((n) => makeNodeInfo(makeNode(n, { labels: { 'kubernetes.io/hostname': n } })));
const withClaim = (name: string, claimName: string): Pod => makePod(name, {}, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] });
const boundClaim = (name: string, pv: string, spec: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim => ({
  ...claim(name, '1Gi', { volumeName: pv, ...spec }), status: { phase: 'Bound' },
});
const decide = (p: Pod, view: VolumeView, ns = nodes()) => {
  const v: SchedulingView = { nodes: ns, byName: new Map(ns.map((n) => [n.name, n])), withAffinity: [], storage: view };
  return schedule(info(p), v);
};
const wffc = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer' });

describe('the volume plugins', () => {
  it('refuse a pod whose claim is missing, on every node, in kube-scheduler words', () => {
    expect(decide(withClaim('p', 'gone'), storage([], []))).toEqual({
      unschedulable: '0/2 nodes are available: persistentvolumeclaim "gone" not found. preemption: not eligible.', rejectedBy: ['VolumeBinding'],
    });
  });

  it('refuse a pod whose claim is being deleted', () => {
    const c = { ...claim('c', '1Gi'), metadata: { ...claim('c', '1Gi').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(volumePreFilter('pods.default.p', withClaim('p', 'c'), storage([c], []))).toEqual({ reason: 'persistentvolumeclaim "c" is being deleted' });
  });

  it('refuse a pod whose Immediate claim is still Pending (or of no class, or of a missing class)', () => {
    const immediate = storageClass('fast');
    for (const spec of [{ storageClassName: 'fast' }, {}, { storageClassName: 'nowhere' }]) {
      const d = decide(withClaim('p', 'c'), storage([claim('c', '1Gi', spec)], [], [immediate]));
      expect(d).toEqual({ unschedulable: '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: not eligible.', rejectedBy: ['VolumeBinding'] });
    }
  });

  it('keep a pod with a bound claim to the nodes its volume is reachable from', () => {
    const pv = volume('pv', '1Gi', { nodeAffinity: onNode('n2') });
    expect(decide(withClaim('p', 'c'), storage([boundClaim('c', 'pv')], [pv]))).toEqual({ node: 'n2' });
    const pinned = volume('pv', '1Gi', { nodeAffinity: onNode('n3') });
    expect(decide(withClaim('p', 'c'), storage([boundClaim('c', 'pv')], [pinned]))).toEqual({
      unschedulable: '0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: not eligible.', rejectedBy: ['VolumeBinding'],
    });
    expect(decide(withClaim('p', 'c'), storage([boundClaim('c', 'gone')], []))).toMatchObject({ unschedulable: expect.stringContaining('pvc c bound to non-existent pv gone') });
  });

  it('send a pod with an unbound WaitForFirstConsumer claim where a fitting free volume is', () => {
    const c = claim('c', '1Gi', { storageClassName: 'local' });
    const pvs = [
      volume('small', '500Mi', { storageClassName: 'local', nodeAffinity: onNode('n1') }),
      volume('taken', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n1'), claimRef: { namespace: 'default', name: 'other', uid: 'u' } }),
      volume('fits', '2Gi', { storageClassName: 'local', nodeAffinity: onNode('n2') }),
    ];
    expect(decide(withClaim('p', 'c'), storage([c], pvs, [wffc]))).toEqual({ node: 'n2' });
    const none = decide(withClaim('p', 'c'), storage([c], pvs.slice(0, 2), [wffc]));
    expect(none).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: not eligible.", rejectedBy: ['VolumeBinding'],
    });
  });

  it('let a WaitForFirstConsumer claim whose class provisions go anywhere, to a volume that fits first', () => {
    const provisioning = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' });
    const c = claim('c', '1Gi', { storageClassName: 'local' });
    expect(decide(withClaim('p', 'c'), storage([c], [], [provisioning]))).toHaveProperty('node');
    const pre = volumePreFilter('pods.default.p', withClaim('p', 'c'), storage([c], [volume('fits', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n2') })], [provisioning]));
    if (!('state' in pre) || !pre.state) throw new Error('no state');
    expect(chooseVolumes(pre.state, makeNode('n1', { labels: { 'kubernetes.io/hostname': 'n1' } }))).toEqual([{ claim: c }]);
    expect(chooseVolumes(pre.state, makeNode('n2', { labels: { 'kubernetes.io/hostname': 'n2' } }))?.[0].volume?.metadata.name).toBe('fits');
  });

  it('keep a pod of a delayed claim already selected for a node to that node', () => {
    const provisioning = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' });
    const selected = (node: string) => {
      const c = claim('c', '1Gi', { storageClassName: 'local' });
      c.metadata.annotations = { 'volume.kubernetes.io/selected-node': node };
      return c;
    };
    // A free volume that fits on n1 does not draw it away from the node selected for it.
    const pvs = [volume('fits', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n1') })];
    expect(decide(withClaim('p', 'c'), storage([selected('n2')], pvs, [provisioning]))).toEqual({ node: 'n2' });
    expect(decide(withClaim('p', 'c'), storage([selected('n3')], pvs, [provisioning]))).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: not eligible.", rejectedBy: ['VolumeBinding'],
    });
  });

  it('send a local-path claim only to a node with room for it, in kube-scheduler words when none has', () => {
    const localPath = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' });
    const sized = (n: string, eph?: string) => makeNodeInfo(makeNode(n, {
      labels: { 'kubernetes.io/hostname': n }, allocatable: { cpu: '2', memory: '4Gi', pods: '110', ...(eph ? { 'ephemeral-storage': eph } : {}) },
    }));
    const c = claim('c', '20Gi', { storageClassName: 'local' });
    expect(decide(withClaim('p', 'c'), storage([c], [], [localPath]), [sized('small', '10Gi'), sized('big', '50Gi')])).toEqual({ node: 'big' });
    expect(decide(withClaim('p', 'c'), storage([c], [], [localPath]), [sized('small', '10Gi'), sized('tiny', '1Gi')])).toEqual({
      unschedulable: '0/2 nodes are available: 2 node(s) did not have enough free storage. preemption: not eligible.', rejectedBy: ['VolumeBinding'],
    });
    // A node that has not reported its storage is not refused for it; a free volume that fits
    // needs no room; and another provisioner's classes are not bounded by the node's disk.
    expect(decide(withClaim('p', 'c'), storage([c], [], [localPath]), [sized('tiny', '1Gi'), sized('unknown')])).toEqual({ node: 'unknown' });
    const pv = volume('pv', '20Gi', { storageClassName: 'local', nodeAffinity: onNode('tiny') });
    expect(decide(withClaim('p', 'c'), storage([c], [pv], [localPath]), [sized('tiny', '1Gi')])).toEqual({ node: 'tiny' });
    // A class of its own base (another disk, perhaps) is not measured by the node's storage.
    const ownBase = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path', parameters: { nodePath: '/mnt/big' } });
    expect(decide(withClaim('p', 'c'), storage([c], [], [ownBase]), [sized('tiny', '1Gi')])).toEqual({ node: 'tiny' });
    const other = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'example.com/nas' });
    expect(decide(withClaim('p', 'c'), storage([c], [], [other]), [sized('tiny', '1Gi')])).toEqual({ node: 'tiny' });
  });

  it('give two delayed claims of one pod two volumes', () => {
    const a = claim('a', '1Gi', { storageClassName: 'local' });
    const b = claim('b', '1Gi', { storageClassName: 'local' });
    const pod = makePod('p', {}, { volumes: [{ name: 'x', persistentVolumeClaim: { claimName: 'a' } }, { name: 'y', persistentVolumeClaim: { claimName: 'b' } }] });
    const one = [volume('v1', '1Gi', { storageClassName: 'local' })];
    expect(decide(pod, storage([a, b], one, [wffc]))).toMatchObject({ unschedulable: expect.stringContaining("didn't find available persistent volumes") });
    expect(decide(pod, storage([a, b], [...one, volume('v2', '1Gi', { storageClassName: 'local' })], [wffc]))).toHaveProperty('node');
  });

  it('refuse a second pod on a ReadWriteOncePod claim, and not the pod that holds it', () => {
    const c = boundClaim('c', 'pv', { accessModes: ['ReadWriteOncePod'] });
    const pv = volume('pv', '1Gi', { accessModes: ['ReadWriteOncePod'] });
    const view = storage([c], [pv], [], { c: ['pods.default.first'] });
    expect(decide(withClaim('second', 'c'), view)).toEqual({
      unschedulable: '0/2 nodes are available: node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. preemption: not eligible.',
      rejectedBy: ['VolumeRestrictions'],
    });
    expect(decide(withClaim('first', 'c'), view)).toHaveProperty('node');
  });

  it('leave pods without claims alone', () => {
    expect(volumePreFilter('pods.default.p', makePod('p'), storage([], []))).toEqual({ state: undefined });
    expect(VOLUME_REASONS.bindConflict).toBe("node(s) didn't find available persistent volumes to bind");
  });
});
