import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ValidationError } from '../../messages/errors';
import { killPids, mountsUnder, pidAlive, removeCgroup, shimPidsFor, unmountUnder } from './cleanup';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe('containerd cleanup', () => {
  asRoot('unmounts nested mounts under a dir, deepest first, and nothing outside it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mk-mnt-'));
    const sibling = `${dir}-sibling`;
    try {
      await mkdir(path.join(dir, 'a'));
      await mkdir(sibling);
      await run('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'a')]);
      await mkdir(path.join(dir, 'a', 'b c'));
      await run('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'a', 'b c')]);
      await run('mount', ['-t', 'tmpfs', 'tmpfs', sibling]);
      expect(await mountsUnder(dir)).toEqual([path.join(dir, 'a', 'b c'), path.join(dir, 'a')]);
      await unmountUnder(dir);
      expect(await mountsUnder(dir)).toEqual([]);
      expect(await mountsUnder(sibling)).toEqual([sibling]);
    } finally {
      await unmountUnder(sibling).catch(() => undefined);
      await unmountUnder(dir).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await rm(sibling, { recursive: true, force: true });
    }
  });

  // Fake cgroup trees: plain directories rmdir like empty cgroups; a regular file inside one
  // makes rmdir fail as a cgroup with processes would.
  describe('removeCgroup on fake hierarchies', () => {
    let root: string;
    beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'mk-fake-cgroup-')); });
    afterEach(async () => { await rm(root, { recursive: true, force: true }); });
    const dirs = (base: string, rels: string[]) => Promise.all(rels.map((r) => mkdir(path.join(base, r), { recursive: true })));

    it('removes the cgroup and its children from the one unified hierarchy (v2), and nothing beside it', async () => {
      await dirs(root, ['kubepods/besteffort/pod1/ctr-a', 'kubepods/besteffort/pod1/ctr-b', 'kubepods/besteffort/pod2/ctr-c']);
      expect(await removeCgroup('/kubepods/besteffort/pod1', [root])).toEqual([]);
      expect(existsSync(path.join(root, 'kubepods/besteffort/pod1'))).toBe(false);
      expect(existsSync(path.join(root, 'kubepods/besteffort/pod2/ctr-c'))).toBe(true);
    });

    it('removes it from every per-controller hierarchy (v1), including a hybrid host\'s v2 one', async () => {
      const mounts = ['cpu,cpuacct', 'memory', 'pids', 'unified'].map((m) => path.join(root, m));
      for (const m of mounts) await dirs(m, ['mk-test-1/pod/ctr']);
      await dirs(path.join(root, 'memory'), ['mk-test-2']);
      expect(await removeCgroup('mk-test-1', mounts)).toEqual([]);
      for (const m of mounts) expect(existsSync(path.join(m, 'mk-test-1'))).toBe(false);
      expect(existsSync(path.join(root, 'memory', 'mk-test-2'))).toBe(true);
    });

    it('reports what it could not remove and keeps going; refuses the root cgroup', async () => {
      const [v1cpu, v1mem] = [path.join(root, 'cpu'), path.join(root, 'memory')];
      await dirs(v1cpu, ['mk-test-1/busy', 'mk-test-1/idle']);
      await dirs(v1mem, ['mk-test-1/idle']);
      await writeFile(path.join(v1cpu, 'mk-test-1/busy/held'), '');
      expect((await removeCgroup('/mk-test-1', [v1cpu, v1mem])).sort()).toEqual([path.join(v1cpu, 'mk-test-1'), path.join(v1cpu, 'mk-test-1/busy')]);
      expect(existsSync(path.join(v1cpu, 'mk-test-1/idle'))).toBe(false);
      expect(existsSync(path.join(v1mem, 'mk-test-1'))).toBe(false);
      await expect(removeCgroup('/', [root])).rejects.toThrow(ValidationError);
      await expect(removeCgroup('/a/..', [root])).rejects.toThrow(ValidationError);
    });
  });

  it('finds no shims for a socket nobody uses and tolerates dead pids', async () => {
    expect(await shimPidsFor('/nonexistent/containerd.sock')).toEqual([]);
    expect(await pidAlive(process.pid)).toBe(true);
    expect(await pidAlive(2 ** 22 + 1)).toBe(false);
    expect(() => killPids([2 ** 22 + 1])).not.toThrow();
  });
});
