import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConfigMap, Secret } from '../../messages/config-data';
import type { Pod } from '../../messages/pod';
import { mountsUnder, unmountUnder } from '../containerd/cleanup';
import type { EnvObjects } from '../pods/env';
import { DATA_DIR_NAME } from './atomic-writer';
import { PodVolumes } from './manager';
import type { Mounter } from './tmpfs';
import type { Volume } from './types';
import { diskUsageBytes } from './usage';

const run = promisify(execFile);

/** Records tmpfs mounts instead of making them. */
class FakeMounter implements Mounter {
  readonly mounted = new Map<string, { mode: number; sizeBytes?: number }>();
  async isMountPoint(dir: string) { return this.mounted.has(dir); }
  async mountTmpfs(dir: string, opts: { mode: number; sizeBytes?: number }) { this.mounted.set(dir, opts); }
  async unmountUnder(dir: string) { for (const d of [...this.mounted.keys()]) if (d === dir || d.startsWith(`${dir}/`)) this.mounted.delete(d); }
}

const podWith = (volumes: Volume[], uid = '0b6c3e9a-1f0d-4c53-9d51-7a2f0d1c2b3a'): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'prod', uid, labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'busybox' }], volumes } as Pod['spec'],
});

describe('PodVolumes', () => {
  let root: string;
  let cms: Record<string, ConfigMap>;
  let secrets: Record<string, Secret>;
  let objects: EnvObjects;
  let mounter: FakeMounter;
  let volumes: PodVolumes;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-podvol-'));
    cms = { app: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { color: 'blue' } } };
    secrets = { db: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { pw: Buffer.from('x').toString('base64') } } };
    objects = { configMap: async (n) => cms[n], secret: async (n) => secrets[n] };
    mounter = new FakeMounter();
    volumes = new PodVolumes({ podsRoot: path.join(root, 'pods'), hostPathRoots: [path.join(root, 'host')], mounter, nodeMemoryBytes: 1 << 30 });
    await mkdir(path.join(root, 'host'), { recursive: true });
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('lays out one directory per volume under <pods root>/<uid>/volumes/<plugin>/<name>', async () => {
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'ram', emptyDir: { medium: 'Memory' } },
      { name: 'config', configMap: { name: 'app' } },
      { name: 'creds', secret: { secretName: 'db' } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'host', hostPath: { path: path.join(root, 'host', 'data'), type: 'DirectoryOrCreate' } },
    ]);
    const got = await volumes.setUp(pod, { objects });
    const base = path.join(root, 'pods', pod.metadata.uid!, 'volumes');
    expect(Object.fromEntries([...got].map(([k, v]) => [k, v.hostPath]))).toEqual({
      scratch: path.join(base, 'empty-dir', 'scratch'),
      cache: path.join(base, 'empty-dir', 'cache'),
      ram: path.join(base, 'empty-dir', 'ram'),
      config: path.join(base, 'configmap', 'config'),
      creds: path.join(base, 'secret', 'creds'),
      info: path.join(base, 'downward-api', 'info'),
      host: path.join(root, 'host', 'data'),
    });
    expect((await stat(got.get('scratch')!.hostPath)).mode & 0o777).toBe(0o777);
    expect((await stat(path.join(root, 'pods', pod.metadata.uid!))).mode & 0o777).toBe(0o750);
    expect((await stat(base)).mode & 0o777).toBe(0o750);
    expect(got.get('config')!.readOnly && got.get('creds')!.readOnly && got.get('info')!.readOnly).toBe(true);
    expect(await readFile(path.join(got.get('config')!.hostPath, 'color'), 'utf8')).toBe('blue');
    expect(await readFile(path.join(got.get('creds')!.hostPath, 'pw'), 'utf8')).toBe('x');
    expect(await readFile(path.join(got.get('info')!.hostPath, 'labels'), 'utf8')).toBe('app="web"');
    // Memory emptyDirs and secrets are tmpfs, sized by sizeLimit or the node's memory.
    expect(Object.fromEntries(mounter.mounted)).toEqual({
      [path.join(base, 'empty-dir', 'cache')]: { mode: 0o777, sizeBytes: 64 * 1024 * 1024 },
      [path.join(base, 'empty-dir', 'ram')]: { mode: 0o777, sizeBytes: 1 << 30 },
      [path.join(base, 'secret', 'creds')]: { mode: 0o755 },
    });
  });

  it('gives emptyDir, configMap and secret files to the pod\'s fsGroup, and leaves hostPath alone', async () => {
    const gid = process.getuid?.() === 0 ? 4343 : process.getgid!();
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'config', configMap: { name: 'app' } },
      { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
      { name: 'host', hostPath: { path: path.join(root, 'host'), type: 'Directory' } },
    ]);
    pod.spec.securityContext = { fsGroup: gid };
    const hostBefore = await stat(path.join(root, 'host'));
    const got = await volumes.setUp(pod, { objects });
    const scratch = await stat(got.get('scratch')!.hostPath);
    expect([scratch.gid, scratch.mode & 0o7777]).toEqual([gid, 0o2777]);
    // The next pass keeps the emptyDir's setgid bit.
    await volumes.setUp(pod, { objects });
    expect((await stat(got.get('scratch')!.hostPath)).mode & 0o7777).toBe(0o2777);
    const color = await stat(path.join(got.get('config')!.hostPath, 'color'));
    expect([color.gid, color.mode & 0o7777]).toEqual([gid, 0o644]);
    // A read-only volume's files get group read, not write.
    const pw = await stat(path.join(got.get('creds')!.hostPath, 'pw'));
    expect([pw.gid, pw.mode & 0o7777]).toEqual([gid, 0o440]);
    const host = await stat(path.join(root, 'host'));
    expect([host.gid, host.mode]).toEqual([hostBefore.gid, hostBefore.mode]);
    // A changed ConfigMap's new files get the group too.
    cms.app = { ...cms.app, data: { color: 'green' } };
    await volumes.setUp(pod, { objects });
    const green = await stat(path.join(got.get('config')!.hostPath, 'color'));
    expect(await readFile(path.join(got.get('config')!.hostPath, 'color'), 'utf8')).toBe('green');
    expect(green.gid).toBe(gid);
  });

  it('rewrites configMap files through the ..data swap when the object changes, and not otherwise', async () => {
    const pod = podWith([{ name: 'config', configMap: { name: 'app' } }]);
    const dir = (await volumes.setUp(pod, { objects })).get('config')!.hostPath;
    const first = await readlink(path.join(dir, DATA_DIR_NAME));
    await volumes.setUp(pod, { objects });
    expect(await readlink(path.join(dir, DATA_DIR_NAME))).toBe(first);
    cms.app = { ...cms.app, data: { color: 'green', size: 'xl' } };
    await volumes.setUp(pod, { objects });
    expect(await readlink(path.join(dir, DATA_DIR_NAME))).not.toBe(first);
    expect(await readFile(path.join(dir, 'color'), 'utf8')).toBe('green');
    expect(await readFile(path.join(dir, 'size'), 'utf8')).toBe('xl');
  });

  it('refuses a claim it cannot read, a volume with no source, hostPath outside the roots and a missing configMap', async () => {
    await expect(volumes.setUp(podWith([{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }]), { objects })).rejects.toThrow('no access to the control plane');
    await expect(volumes.setUp(podWith([{ name: 'data' }]), { objects })).rejects.toThrow('needs exactly one of emptyDir');
    await expect(volumes.setUp(podWith([{ name: 'data', emptyDir: {}, hostPath: { path: '/tmp' } }]), { objects })).rejects.toThrow('needs exactly one of');
    await expect(volumes.setUp(podWith([{ name: 'etc', hostPath: { path: '/etc' } }]), { objects })).rejects.toThrow("hostPath /etc is outside the node's allowed roots");
    await expect(volumes.setUp(podWith([{ name: 'c', configMap: { name: 'gone' } }]), { objects })).rejects.toThrow('configmap "gone" not found');
    await expect(volumes.setUp(podWith([{ name: 'c', emptyDir: { medium: 'HugePages' as 'Memory' } }]), { objects })).rejects.toThrow('emptyDir medium "HugePages" is not supported');
  });

  it('tears down a pod: tmpfs unmounted, volume dirs removed, hostPath contents kept; repeating is harmless', async () => {
    const pod = podWith([
      { name: 'ram', emptyDir: { medium: 'Memory' } },
      { name: 'host', hostPath: { path: path.join(root, 'host') } },
    ]);
    await volumes.setUp(pod, { objects });
    await writeFile(path.join(root, 'host', 'keep'), 'k');
    await volumes.tearDown(pod.metadata.uid!);
    expect(mounter.mounted.size).toBe(0);
    expect(await readdir(path.join(root, 'pods'))).toEqual([]);
    expect(await readFile(path.join(root, 'host', 'keep'), 'utf8')).toBe('k');
    await volumes.tearDown(pod.metadata.uid!);
  });

  it('gives back the emptyDir, configMap, secret and downwardAPI volumes of a finished pod; persistent and hostPath ones stay', async () => {
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'ram', emptyDir: { medium: 'Memory' } },
      { name: 'config', configMap: { name: 'app' } },
      { name: 'creds', secret: { secretName: 'db' } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'host', hostPath: { path: path.join(root, 'host') } },
    ]);
    await volumes.setUp(pod, { objects });
    await writeFile(path.join(root, 'host', 'keep'), 'k');
    const base = path.join(root, 'pods', pod.metadata.uid!, 'volumes');
    // What an nfs claim leaves there (its export would be mounted): never touched.
    await mkdir(path.join(base, 'nfs', 'data'), { recursive: true });
    await writeFile(path.join(base, 'nfs', 'data', 'keep'), 'n');
    await volumes.releaseEphemeral(pod.metadata.uid!);
    expect(await readdir(base)).toEqual(['nfs']);
    expect(mounter.mounted.size).toBe(0);
    expect(await readFile(path.join(base, 'nfs', 'data', 'keep'), 'utf8')).toBe('n');
    expect(await readFile(path.join(root, 'host', 'keep'), 'utf8')).toBe('k');
    await volumes.releaseEphemeral(pod.metadata.uid!);
    await volumes.releaseEphemeral('33333333-3333-3333-3333-333333333333');
    await volumes.tearDown(pod.metadata.uid!);
    expect(await readdir(path.join(root, 'pods'))).toEqual([]);
  });

  it('removes the volumes of pods no longer on the node, and nothing else under the root', async () => {
    const kept = podWith([{ name: 's', emptyDir: {} }], '11111111-1111-1111-1111-111111111111');
    const gone = podWith([{ name: 's', emptyDir: { medium: 'Memory' } }], '22222222-2222-2222-2222-222222222222');
    await volumes.setUp(kept, { objects });
    await volumes.setUp(gone, { objects });
    const logs = path.join(root, 'pods', 'prod_web_22222222-2222-2222-2222-222222222222');
    await mkdir(logs);
    expect(await volumes.cleanOrphans(new Set([kept.metadata.uid!]))).toEqual([gone.metadata.uid]);
    expect((await readdir(path.join(root, 'pods'))).sort()).toEqual([kept.metadata.uid, path.basename(logs)].sort());
    expect([...mounter.mounted.keys()]).toEqual([]);
  });

  it('says which disk emptyDir is over its sizeLimit, in kubelet\'s words; memory ones and those without a limit are not measured', async () => {
    const pod = podWith([
      { name: 'free', emptyDir: {} },
      { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } },
      { name: 'scratch', emptyDir: { sizeLimit: '64Ki' } },
    ]);
    const got = await volumes.setUp(pod, { objects });
    await writeFile(path.join(got.get('free')!.hostPath, 'big'), Buffer.alloc(256 * 1024, 1));
    await writeFile(path.join(got.get('ram')!.hostPath, 'big'), Buffer.alloc(256 * 1024, 1));
    await mkdir(path.join(got.get('scratch')!.hostPath, 'sub'));
    await writeFile(path.join(got.get('scratch')!.hostPath, 'sub', 'small'), Buffer.alloc(16 * 1024, 1));
    expect(await volumes.emptyDirOverLimit(pod)).toBeUndefined();
    await writeFile(path.join(got.get('scratch')!.hostPath, 'sub', 'big'), Buffer.alloc(128 * 1024, 1));
    expect(await volumes.emptyDirOverLimit(pod)).toBe('Usage of EmptyDir volume "scratch" exceeds the limit "64Ki".');
    expect(await diskUsageBytes(got.get('scratch')!.hostPath)).toBeGreaterThanOrEqual(144 * 1024);
    expect(await diskUsageBytes(path.join(root, 'missing'))).toBe(0);
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('mounts real tmpfs filesystems for memory emptyDirs and secrets, and unmounts them on teardown', async () => {
    const real = new PodVolumes({ podsRoot: path.join(root, 'pods') });
    const pod = podWith([{ name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }, { name: 'creds', secret: { secretName: 'db' } }]);
    let got;
    try {
      got = await real.setUp(pod, { objects });
    } catch (e) {
      // A root that may not mount (an unprivileged container) cannot run this test.
      if (/cannot mount a tmpfs/.test(String(e))) return;
      throw e;
    }
    try {
      const points = await mountsUnder(root);
      expect(points.sort()).toEqual([got.get('ram')!.hostPath, got.get('creds')!.hostPath].sort());
      const { stdout } = await run('df', ['-B1', '--output=size', got.get('ram')!.hostPath]);
      expect(Number(stdout.trim().split('\n')[1])).toBe(1024 * 1024);
      expect(await readFile(path.join(got.get('creds')!.hostPath, 'pw'), 'utf8')).toBe('x');
      await real.setUp(pod, { objects });
      expect((await mountsUnder(root)).length).toBe(2);
      // A subPath bind mount of the pod goes with it too.
      await mkdir(path.join(got.get('ram')!.hostPath, 'sub'));
      const bound = await real.subPathBinder(pod.metadata.uid!)!({ volume: 'ram', container: 'app', index: 0, base: got.get('ram')!.hostPath, resolved: path.join(got.get('ram')!.hostPath, 'sub') });
      expect(await mountsUnder(root)).toContain(bound);
      await real.tearDown(pod.metadata.uid!);
      expect(await mountsUnder(root)).toEqual([]);
      expect(await readdir(path.join(root, 'pods'))).toEqual([]);
    } finally {
      await unmountUnder(root).catch(() => undefined);
    }
  });

  asRoot('recognises its mounts under a symlinked pods root: a refresh stacks nothing and teardown unmounts', async () => {
    await mkdir(path.join(root, 'real'));
    await symlink(path.join(root, 'real'), path.join(root, 'link'));
    const real = new PodVolumes({ podsRoot: path.join(root, 'link', 'pods') });
    const pod = podWith([{ name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }, { name: 'creds', secret: { secretName: 'db' } }]);
    try {
      try {
        await real.setUp(pod, { objects });
      } catch (e) {
        if (/cannot mount a tmpfs/.test(String(e))) return;
        throw e;
      }
      await real.setUp(pod, { objects });
      await real.setUp(pod, { objects });
      expect((await mountsUnder(path.join(root, 'real'))).length).toBe(2);
      await real.tearDown(pod.metadata.uid!);
      expect(await mountsUnder(path.join(root, 'real'))).toEqual([]);
      expect(await readdir(path.join(root, 'real', 'pods'))).toEqual([]);
    } finally {
      await unmountUnder(path.join(root, 'real')).catch(() => undefined);
    }
  });

  asRoot('never removes files across a mount that stays: teardown refuses, naming it', async () => {
    const stuck: Mounter = { isMountPoint: async () => false, mountTmpfs: async () => undefined, unmountUnder: async () => undefined };
    const vols = new PodVolumes({ podsRoot: path.join(root, 'pods'), mounter: stuck });
    const pod = podWith([{ name: 'scratch', emptyDir: {} }]);
    const dir = (await vols.setUp(pod, { objects })).get('scratch')!.hostPath;
    const inner = path.join(dir, 'export');
    await mkdir(inner);
    try {
      try {
        await run('mount', ['-t', 'tmpfs', 'tmpfs', inner]);
      } catch {
        return;
      }
      await writeFile(path.join(inner, 'precious'), 'p');
      await expect(vols.tearDown(pod.metadata.uid!)).rejects.toThrow(`${inner} is another filesystem still mounted`);
      expect(await readFile(path.join(inner, 'precious'), 'utf8')).toBe('p');
      // A bind mount of a directory of the same file system (same device) is refused too.
      await run('umount', [inner]);
      await mkdir(path.join(root, 'host', 'export'));
      await writeFile(path.join(root, 'host', 'export', 'precious'), 'h');
      await run('mount', ['--bind', path.join(root, 'host', 'export'), inner]);
      await expect(vols.tearDown(pod.metadata.uid!)).rejects.toThrow(`${inner} is another filesystem still mounted`);
      expect(await readFile(path.join(root, 'host', 'export', 'precious'), 'utf8')).toBe('h');
    } finally {
      await unmountUnder(root).catch(() => undefined);
    }
  });
});
