import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from '../../messages/persistent-volume';
import type { Pod } from '../../messages/pod';
import type { EnvObjects } from '../pods/env';
import { PodVolumes } from './manager';
import { kernelSupports, nfsMountArgs } from './persistent';
import type { Mounter } from './tmpfs';

class FakeMounter implements Mounter {
  readonly mounted = new Set<string>();
  readonly calls: string[][] = [];
  async isMountPoint(dir: string) { return this.mounted.has(dir); }
  async mountTmpfs(dir: string) { this.mounted.add(dir); }
  async unmountUnder(dir: string) { for (const d of [...this.mounted]) if (d === dir || d.startsWith(`${dir}/`)) this.mounted.delete(d); }
  async mount(args: readonly string[]) { this.calls.push([...args]); this.mounted.add(args[args.length - 1]); }
}

const pv = (name: string, spec: Partial<PersistentVolume['spec']>): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], claimRef: { namespace: 'prod', name: 'data', uid: 'claim-uid' }, ...spec },
  status: { phase: 'Bound' },
});
const boundClaim = (volumeName: string, phase: 'Bound' | 'Pending' = 'Bound'): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'prod', uid: 'claim-uid' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName }, status: { phase },
});
const podUsing = (uid: string, readOnly?: boolean): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${uid.slice(0, 4)}`, namespace: 'prod', uid },
  spec: { containers: [{ name: 'app', image: 'busybox' }], volumes: [{ name: 'store', persistentVolumeClaim: { claimName: 'data', ...(readOnly ? { readOnly } : {}) } }] },
});
const onNode = (name: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In' as const, values: [name] }] }] } });

describe('nfs mount arguments', () => {
  const nfs = (spec: Partial<PersistentVolume['spec']>) => pv('n', { nfs: { server: '10.0.0.5', path: '/exports/a' }, ...spec });
  it('name the export, the options and ro as mount(8) takes them', () => {
    expect(nfsMountArgs(nfs({}), '/d', false)).toEqual(['-t', 'nfs', '10.0.0.5:/exports/a', '/d']);
    expect(nfsMountArgs(nfs({ mountOptions: ['nfsvers=4.1', 'hard'] }), '/d', true)).toEqual(['-t', 'nfs', '-o', 'nfsvers=4.1,hard,ro', '10.0.0.5:/exports/a', '/d']);
    expect(nfsMountArgs(nfs({ mountOptions: ['ro'] }), '/d', true)).toEqual(['-t', 'nfs', '-o', 'ro', '10.0.0.5:/exports/a', '/d']);
    expect(nfsMountArgs(pv('n', { nfs: { server: 'fd00::5', path: '/x' } }), '/d', false)).toEqual(['-t', 'nfs', '[fd00::5]:/x', '/d']);
    expect(() => nfsMountArgs(pv('n', { hostPath: { path: '/x' } }), '/d', false)).toThrow('no nfs source');
  });
});

describe('persistentVolumeClaim volumes on the node', () => {
  let root: string;
  let mounter: FakeMounter;
  let volumes: PodVolumes;
  let claims: Record<string, PersistentVolumeClaim>;
  let pvs: Record<string, PersistentVolume>;
  let objects: EnvObjects;
  const procFs = () => path.join(root, 'filesystems');
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-pvc-'));
    mounter = new FakeMounter();
    volumes = new PodVolumes({
      podsRoot: path.join(root, 'pods'), hostPathRoots: [], mounter, procFilesystems: procFs(),
      node: { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } },
    });
    await writeFile(procFs(), 'nodev\tsysfs\nnodev\ttmpfs\n\text4\n');
    claims = {};
    pvs = {};
    objects = { configMap: async () => undefined, secret: async () => undefined, claim: async (n) => claims[n], volume: async (n) => pvs[n] };
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it("mounts a hostPath volume's directory outside the node's hostPath roots, keeps it when the pod goes, and the next pod reads it", async () => {
    const dir = path.join(root, 'pv-data');
    pvs.pv1 = pv('pv1', { hostPath: { path: dir, type: 'DirectoryOrCreate' } });
    claims.data = boundClaim('pv1');
    const first = await volumes.setUp(podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a'), { objects });
    expect(first.get('store')).toEqual({ hostPath: dir, readOnly: false, createSubPaths: true });
    await writeFile(path.join(first.get('store')!.hostPath, 'hello.txt'), 'kept');
    await volumes.tearDown('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a');
    const second = await volumes.setUp(podUsing('1c7d4f0b-0000-4c53-9d51-7a2f0d1c2b3a', true), { objects });
    expect(second.get('store')).toEqual({ hostPath: dir, readOnly: true, createSubPaths: true });
    expect(await readFile(path.join(dir, 'hello.txt'), 'utf8')).toBe('kept');
  });

  it("checks a hostPath volume's type", async () => {
    pvs.pv1 = pv('pv1', { hostPath: { path: path.join(root, 'missing'), type: 'Directory' } });
    claims.data = boundClaim('pv1');
    await expect(volumes.setUp(podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a'), { objects })).rejects.toThrow('hostPath type check failed');
  });

  it('waits for a claim that is missing or not Bound, and refuses a volume bound elsewhere', async () => {
    const pod = podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a');
    await expect(volumes.setUp(pod, { objects })).rejects.toThrow('persistentvolumeclaim "data" not found');
    claims.data = boundClaim('', 'Pending');
    await expect(volumes.setUp(pod, { objects })).rejects.toThrow('PVC prod/data is not bound (phase Pending)');
    claims.data = boundClaim('pv1');
    await expect(volumes.setUp(pod, { objects })).rejects.toThrow('persistentvolume "pv1" of claim "data" not found');
    pvs.pv1 = pv('pv1', { hostPath: { path: root }, claimRef: { namespace: 'prod', name: 'other', uid: 'x' } });
    await expect(volumes.setUp(pod, { objects })).rejects.toThrow('persistentvolume "pv1" is not bound to claim "data"');
  });

  it('mounts a local volume of this node, and refuses one of another node', async () => {
    const dir = path.join(root, 'disk');
    await mkdir(dir);
    claims.data = boundClaim('local1');
    pvs.local1 = pv('local1', { local: { path: dir }, nodeAffinity: onNode('n1') });
    const got = await volumes.setUp(podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a'), { objects });
    expect(got.get('store')?.hostPath).toBe(dir);
    pvs.local1 = pv('local1', { local: { path: dir }, nodeAffinity: onNode('n2') });
    await expect(volumes.setUp(podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a'), { objects })).rejects.toThrow('is not on node n1');
    pvs.local1 = pv('local1', { local: { path: path.join(root, 'nope') }, nodeAffinity: onNode('n1') });
    await expect(volumes.setUp(podUsing('0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a'), { objects })).rejects.toThrow('is not a directory on this node');
    expect(await stat(dir)).toBeTruthy();
  });

  it("says clearly when the kernel cannot mount NFS, and mounts the export (read-only from the claim) when it can", async () => {
    claims.data = boundClaim('share');
    pvs.share = pv('share', { nfs: { server: 'files', path: '/export' }, mountOptions: ['nfsvers=4'] });
    const uid = '0b6c3e9a-0000-4c53-9d51-7a2f0d1c2b3a';
    await expect(volumes.setUp(podUsing(uid, true), { objects })).rejects.toThrow("nfs export files:/export: this node's kernel cannot mount NFS (no nfs in");
    expect(mounter.calls).toEqual([]);
    await writeFile(procFs(), 'nodev\ttmpfs\nnodev\tnfs\nnodev\tnfs4\n');
    expect(await kernelSupports('nfs', procFs())).toBe(true);
    const got = await volumes.setUp(podUsing(uid, true), { objects });
    const dir = path.join(root, 'pods', uid, 'volumes', 'nfs', 'store');
    expect(got.get('store')).toEqual({ hostPath: dir, readOnly: true, createSubPaths: true });
    expect(mounter.calls).toEqual([['-t', 'nfs', '-o', 'nfsvers=4,ro', 'files:/export', dir]]);
    await volumes.setUp(podUsing(uid, true), { objects });
    expect(mounter.calls).toHaveLength(1); // mounted already
    await volumes.tearDown(uid);
    expect(mounter.mounted.size).toBe(0);
  });
});
