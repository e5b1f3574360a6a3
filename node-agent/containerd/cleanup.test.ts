import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { killPids, mountsUnder, pidAlive, shimPidsFor, unmountUnder } from './cleanup';

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

  it('finds no shims for a socket nobody uses and tolerates dead pids', async () => {
    expect(await shimPidsFor('/nonexistent/containerd.sock')).toEqual([]);
    expect(await pidAlive(process.pid)).toBe(true);
    expect(await pidAlive(2 ** 22 + 1)).toBe(false);
    expect(() => killPids([2 ** 22 + 1])).not.toThrow();
  });
});
