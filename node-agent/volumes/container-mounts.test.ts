import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Container } from '../../messages/pod';
import { mountsUnder, unmountUnder } from '../containerd/cleanup';
import { containerMounts, type MountedVolume } from './container-mounts';
import { SUBPATHS_DIR, subPathBinder, type SubPathBinder } from './subpath';
import { systemMounter } from './tmpfs';
import type { VolumeMount } from './types';

const container = (volumeMounts: VolumeMount[]): Container => ({ name: 'app', image: 'busybox', volumeMounts } as Container);

describe('containerMounts', () => {
  let root: string;
  let scratch: MountedVolume;
  let config: MountedVolume;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-mounts-'));
    await mkdir(path.join(root, 'scratch'));
    await mkdir(path.join(root, 'config', 'conf.d'), { recursive: true });
    scratch = { hostPath: path.join(root, 'scratch'), readOnly: false, createSubPaths: true };
    config = { hostPath: path.join(root, 'config'), readOnly: true, createSubPaths: false };
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('mounts each volume where the container asks, read-only when either side says so', async () => {
    const mounts = await containerMounts(container([
      { name: 'scratch', mountPath: '/cache' },
      { name: 'scratch', mountPath: '/ro', readOnly: true },
      { name: 'config', mountPath: '/etc/app' },
    ]), new Map([['scratch', scratch], ['config', config]]), []);
    expect(mounts).toEqual([
      { containerPath: '/cache', hostPath: scratch.hostPath, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/ro', hostPath: scratch.hostPath, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/etc/app', hostPath: config.hostPath, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    ]);
  });

  it('refuses a mount naming an unknown volume, and a mountPath used twice', async () => {
    await expect(containerMounts(container([{ name: 'nope', mountPath: '/x' }]), new Map(), [])).rejects.toThrow('container app: volumeMount "nope" names no volume of the pod');
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x' }, { name: 'scratch', mountPath: '/x' }]), new Map([['scratch', scratch]]), []))
      .rejects.toThrow('mountPath /x is used by two volumeMounts');
  });

  it('makes a missing subPath as a directory in an emptyDir, refuses one missing in a configMap', async () => {
    const [m] = await containerMounts(container([{ name: 'scratch', mountPath: '/data', subPath: 'a/b' }]), new Map([['scratch', scratch]]), []);
    expect(m.hostPath).toBe(path.join(scratch.hostPath, 'a', 'b'));
    expect((await stat(m.hostPath)).isDirectory()).toBe(true);
    const [c] = await containerMounts(container([{ name: 'config', mountPath: '/etc/app/conf.d', subPath: 'conf.d' }]), new Map([['config', config]]), []);
    expect(c).toMatchObject({ hostPath: path.join(config.hostPath, 'conf.d'), readonly: true });
    await expect(containerMounts(container([{ name: 'config', mountPath: '/x', subPath: 'missing' }]), new Map([['config', config]]), []))
      .rejects.toThrow('subPath "missing" of volume "config" does not exist in the volume');
  });

  it('refuses a subPath that leaves its volume through a symlink, or with ..', async () => {
    await mkdir(path.join(root, 'outside'));
    await symlink(path.join(root, 'outside'), path.join(scratch.hostPath, 'escape'));
    await symlink('/', path.join(scratch.hostPath, 'rootlink'));
    const vols = new Map([['scratch', scratch]]);
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: 'escape' }]), vols, []))
      .rejects.toThrow(`leaves the volume: it resolves to ${path.join(root, 'outside')}`);
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: 'rootlink/etc' }]), vols, [])).rejects.toThrow('leaves the volume');
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: 'escape/new' }]), vols, [])).rejects.toThrow('leaves the volume');
    expect(await stat(path.join(root, 'outside', 'new')).catch(() => undefined)).toBeUndefined();
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: '../x' }]), vols, [])).rejects.toThrow("must not contain '..'");
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: '/etc' }]), vols, [])).rejects.toThrow('must be a relative path');
  });

  it('expands subPathExpr with the container environment', async () => {
    const [m] = await containerMounts(container([{ name: 'scratch', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)' }]),
      new Map([['scratch', scratch]]), [{ name: 'POD_NAME', value: 'web-0' }]);
    expect(m.hostPath).toBe(path.join(scratch.hostPath, 'logs', 'web-0'));
    await expect(containerMounts(container([{ name: 'scratch', mountPath: '/logs', subPath: 'a', subPathExpr: 'b' }]), new Map([['scratch', scratch]]), []))
      .rejects.toThrow('has both subPath and subPathExpr');
  });

  it('never quotes the expanded value of a subPathExpr (it may come from a Secret) in its errors', async () => {
    await mkdir(path.join(root, 'outside'));
    await symlink(path.join(root, 'outside'), path.join(scratch.hostPath, 'escape'));
    const vols = new Map([['scratch', scratch], ['config', config]]);
    const env = [{ name: 'PW', value: 'hunter2' }, { name: 'ABS', value: '/hunter2' }, { name: 'UP', value: '../hunter2' }, { name: 'LONG', value: 'h'.repeat(300) }];
    const cases: [string, string, RegExp][] = [
      ['scratch', '$(ABS)', /must be a relative path/],
      ['scratch', '$(UP)', /must not contain '\.\.'/],
      ['scratch', 'escape/$(PW)', /leaves the volume/],
      ['config', 'x/$(PW)', /does not exist in the volume/],
      ['scratch', '$(LONG)/x', /cannot be made/],
    ];
    for (const [name, subPathExpr, why] of cases) {
      const err = await containerMounts(container([{ name, mountPath: '/x', subPathExpr }]), vols, env).then(() => undefined, (e: unknown) => String(e));
      expect(err).toMatch(why);
      expect(err).toContain(`subPathExpr ${JSON.stringify(subPathExpr)} of volume "${name}"`);
      expect(err).not.toContain('hunter2');
      expect(err).not.toContain('hhhh');
    }
    expect(await stat(path.join(root, 'outside', 'hunter2')).catch(() => undefined)).toBeUndefined();
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('gives the runtime a bind mount of the checked subPath itself, which a later symlink swap cannot change', async () => {
    const podDir = path.join(root, 'pod');
    const bind = subPathBinder(podDir, { ...systemMounter, mount: systemMounter.mount! });
    await mkdir(path.join(scratch.hostPath, 'data'));
    await writeFile(path.join(scratch.hostPath, 'data', 'mine'), 'm');
    await writeFile(path.join(config.hostPath, 'key'), 'v');
    try {
      const [d, f] = await containerMounts(container([
        { name: 'scratch', mountPath: '/data', subPath: 'data' },
        { name: 'config', mountPath: '/etc/key', subPath: 'key' },
      ]), new Map([['scratch', scratch], ['config', config]]), [], bind);
      expect(d.hostPath).toBe(path.join(podDir, SUBPATHS_DIR, 'scratch', 'app', '0'));
      expect(f.hostPath).toBe(path.join(podDir, SUBPATHS_DIR, 'config', 'app', '1'));
      expect((await mountsUnder(podDir)).sort()).toEqual([d.hostPath, f.hostPath].sort());
      expect(await readFile(f.hostPath, 'utf8')).toBe('v');
      // The container swaps its directory for a symlink to the node's /: the mount still shows its own files.
      await rename(path.join(scratch.hostPath, 'data'), path.join(scratch.hostPath, 'moved'));
      await symlink('/', path.join(scratch.hostPath, 'data'));
      expect(await readdir(d.hostPath)).toEqual(['mine']);
      // Made again (a restarted container): the old mount is replaced, not stacked.
      await rm(path.join(scratch.hostPath, 'data'));
      await rename(path.join(scratch.hostPath, 'moved'), path.join(scratch.hostPath, 'data'));
      await containerMounts(container([{ name: 'scratch', mountPath: '/data', subPath: 'data' }]), new Map([['scratch', scratch]]), [], bind);
      expect((await mountsUnder(podDir)).length).toBe(2);
    } finally {
      await unmountUnder(root).catch(() => undefined);
    }
  });

  asRoot('refuses a subPath swapped for a symlink between its check and its mount', async () => {
    const podDir = path.join(root, 'pod');
    const real = subPathBinder(podDir, { ...systemMounter, mount: systemMounter.mount! });
    await mkdir(path.join(root, 'outside'));
    await writeFile(path.join(root, 'outside', 'node-secret'), 's');
    await mkdir(path.join(scratch.hostPath, 'a', 'b'), { recursive: true });
    const racing: SubPathBinder = async (m) => {
      await rm(path.join(scratch.hostPath, 'a'), { recursive: true });
      await symlink(path.join(root, 'outside'), path.join(scratch.hostPath, 'a'));
      return real(m);
    };
    try {
      await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: 'a/b' }]), new Map([['scratch', scratch]]), [], racing))
        .rejects.toThrow(/subPath "a\/b" of volume "scratch" cannot be made or resolved in the volume: .*(ELOOP|ENOTDIR)/);
      // The last component swapped the same way is refused too.
      await mkdir(path.join(scratch.hostPath, 'c'));
      const racingLast: SubPathBinder = async (m) => {
        await rm(path.join(scratch.hostPath, 'c'), { recursive: true });
        await symlink(path.join(root, 'outside'), path.join(scratch.hostPath, 'c'));
        return real(m);
      };
      await expect(containerMounts(container([{ name: 'scratch', mountPath: '/x', subPath: 'c' }]), new Map([['scratch', scratch]]), [], racingLast))
        .rejects.toThrow(/subPath "c" of volume "scratch" cannot be made or resolved in the volume: .*symlink/);
      expect(await mountsUnder(root)).toEqual([]);
    } finally {
      await unmountUnder(root).catch(() => undefined);
    }
  });
});
