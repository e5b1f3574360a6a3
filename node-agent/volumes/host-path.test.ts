import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isVolumeError } from './errors';
import { resolveExisting, setUpHostPath } from './host-path';

describe('hostPath volumes', () => {
  let root: string;
  let allowed: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-hostpath-'));
    allowed = path.join(root, 'allowed');
    await mkdir(allowed);
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('refuses a path outside the allowed roots, naming the path and the roots', async () => {
    const err = await setUpHostPath('data', { path: path.join(root, 'other') }, [allowed]).catch((e: unknown) => e);
    expect(isVolumeError(err)).toBe(true);
    expect((err as Error).message).toBe(`hostPath ${path.join(root, 'other')} is outside the node's allowed roots (${allowed})`);
    await expect(setUpHostPath('data', { path: '/etc' }, [])).rejects.toThrow(/outside the node's allowed roots \(none: start the node agent with --host-path-root/);
    await expect(setUpHostPath('data', { path: 'relative/x' }, [allowed])).rejects.toThrow('must be an absolute path');
  });

  it('refuses a path inside a root that leads out through a symlink, and mounts the resolved path of one that stays', async () => {
    await mkdir(path.join(root, 'secret'));
    await symlink(path.join(root, 'secret'), path.join(allowed, 'out'));
    await expect(setUpHostPath('data', { path: path.join(allowed, 'out') }, [allowed])).rejects.toThrow(/outside the node's allowed roots/);
    await expect(setUpHostPath('data', { path: path.join(allowed, 'out', 'new'), type: 'DirectoryOrCreate' }, [allowed])).rejects.toThrow(/outside/);
    expect(await stat(path.join(root, 'secret', 'new')).catch(() => undefined)).toBeUndefined();
    await mkdir(path.join(allowed, 'real'));
    await symlink(path.join(allowed, 'real'), path.join(allowed, 'in'));
    expect(await setUpHostPath('data', { path: path.join(allowed, 'in') }, [allowed])).toBe(path.join(allowed, 'real'));
  });

  it('DirectoryOrCreate makes the directory (0755) and Directory wants one', async () => {
    const p = path.join(allowed, 'a', 'b');
    await expect(setUpHostPath('d', { path: p, type: 'Directory' }, [allowed])).rejects.toThrow(`hostPath type check failed: ${p} is not a directory`);
    expect(await setUpHostPath('d', { path: p, type: 'DirectoryOrCreate' }, [allowed])).toBe(p);
    expect((await stat(p)).isDirectory()).toBe(true);
    expect((await stat(p)).mode & 0o777).toBe(0o755 & ~process.umask());
    expect(await setUpHostPath('d', { path: p, type: 'Directory' }, [allowed])).toBe(p);
    await writeFile(path.join(allowed, 'f'), 'x');
    await expect(setUpHostPath('d', { path: path.join(allowed, 'f'), type: 'DirectoryOrCreate' }, [allowed])).rejects.toThrow('is not a directory');
  });

  it('FileOrCreate makes an empty file but not its parent; File wants a file', async () => {
    const f = path.join(allowed, 'log.txt');
    await expect(setUpHostPath('f', { path: f, type: 'File' }, [allowed])).rejects.toThrow('is not a file');
    expect(await setUpHostPath('f', { path: f, type: 'FileOrCreate' }, [allowed])).toBe(f);
    expect(await readFile(f, 'utf8')).toBe('');
    await writeFile(f, 'kept');
    await setUpHostPath('f', { path: f, type: 'FileOrCreate' }, [allowed]);
    expect(await readFile(f, 'utf8')).toBe('kept');
    await expect(setUpHostPath('f', { path: path.join(allowed, 'nodir', 'x'), type: 'FileOrCreate' }, [allowed])).rejects.toThrow('parent directory does not exist');
    await expect(setUpHostPath('f', { path: allowed, type: 'File' }, [allowed])).rejects.toThrow('is not a file');
  });

  it('checks sockets and devices, and "" checks nothing', async () => {
    const sock = path.join(allowed, 's.sock');
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      expect(await setUpHostPath('s', { path: sock, type: 'Socket' }, [allowed])).toBe(sock);
      await expect(setUpHostPath('s', { path: allowed, type: 'Socket' }, [allowed])).rejects.toThrow('is not a socket');
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await setUpHostPath('n', { path: '/dev/null', type: 'CharDevice' }, ['/dev'])).toBe('/dev/null');
    await expect(setUpHostPath('n', { path: '/dev/null', type: 'BlockDevice' }, ['/dev'])).rejects.toThrow('is not a block device');
    expect(await setUpHostPath('n', { path: path.join(allowed, 'missing') }, [allowed])).toBe(path.join(allowed, 'missing'));
  });

  it('resolveExisting resolves the part that exists and appends the rest', async () => {
    await symlink(allowed, path.join(root, 'link'));
    expect(await resolveExisting(path.join(root, 'link', 'x', 'y'))).toBe(path.join(allowed, 'x', 'y'));
  });
});
