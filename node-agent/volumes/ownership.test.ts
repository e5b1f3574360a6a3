import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ownedMode, setVolumeOwnership } from './ownership';

const run = promisify(execFile);
// Root may give any group; another user only one of its own.
const GID = process.getuid?.() === 0 ? 4242 : process.getgid!();

describe('setVolumeOwnership', () => {
  let root: string;
  beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'mk-own-')); });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('adds group read and write (read only: read), and setgid and search to directories', () => {
    expect(ownedMode(0o644, false, false)).toBe(0o664);
    expect(ownedMode(0o400, false, true)).toBe(0o440);
    expect(ownedMode(0o755, true, false)).toBe(0o2775);
    expect(ownedMode(0o700, true, true)).toBe(0o2750);
    expect(ownedMode(0o2777, true, false)).toBe(0o2777);
  });

  it('gives every file and directory the group and bits, a symlink the group but not its target', async () => {
    const vol = path.join(root, 'vol');
    await mkdir(path.join(vol, 'a', 'b'), { recursive: true });
    await writeFile(path.join(vol, 'a', 'b', 'f'), 'x', { mode: 0o600 });
    await chmod(path.join(vol, 'a', 'b', 'f'), 0o600);
    const outside = path.join(root, 'outside');
    await writeFile(outside, 'y');
    await chmod(outside, 0o600);
    await symlink(outside, path.join(vol, 'link'));
    // A link to a directory of the node is not walked into; a fifo is not opened (it would block).
    const outsideDir = path.join(root, 'node-dir');
    await mkdir(outsideDir);
    await writeFile(path.join(outsideDir, 'g'), 'z');
    await chmod(path.join(outsideDir, 'g'), 0o600);
    await symlink(outsideDir, path.join(vol, 'dirlink'));
    await run('mkfifo', [path.join(vol, 'pipe')]);

    expect(await setVolumeOwnership(vol, GID, false)).toBeGreaterThan(0);
    for (const p of [vol, path.join(vol, 'a'), path.join(vol, 'a', 'b')]) {
      const st = await lstat(p);
      expect(st.gid).toBe(GID);
      expect(st.mode & 0o2070).toBe(0o2070);
    }
    const f = await lstat(path.join(vol, 'a', 'b', 'f'));
    expect([f.gid, f.mode & 0o7777]).toEqual([GID, 0o660]);
    expect((await lstat(path.join(vol, 'link'))).gid).toBe(GID);
    // The link's target, outside the volume, is not touched.
    expect((await lstat(outside)).mode & 0o7777).toBe(0o600);
    const g = await lstat(path.join(outsideDir, 'g'));
    expect([g.mode & 0o7777, g.gid === GID && GID !== process.getgid!()]).toEqual([0o600, false]);
    expect((await lstat(path.join(vol, 'pipe'))).gid).toBe(GID);
    // A second walk finds nothing to change.
    expect(await setVolumeOwnership(vol, GID, false)).toBe(0);
  });

  it('skips the walk under OnRootMismatch once the root is in order, and walks when it is not', async () => {
    const vol = path.join(root, 'vol');
    await mkdir(vol);
    await writeFile(path.join(vol, 'f'), 'x');
    await chmod(path.join(vol, 'f'), 0o600);
    expect(await setVolumeOwnership(vol, GID, false, 'OnRootMismatch')).toBeGreaterThan(0);
    // A file whose bits were taken away again is left as it is while the root matches.
    await chmod(path.join(vol, 'f'), 0o600);
    expect(await setVolumeOwnership(vol, GID, false, 'OnRootMismatch')).toBe(0);
    expect((await lstat(path.join(vol, 'f'))).mode & 0o7777).toBe(0o600);
    expect(await setVolumeOwnership(vol, GID, false, 'Always')).toBe(1);
    expect((await lstat(path.join(vol, 'f'))).mode & 0o7777).toBe(0o660);
  });
});
