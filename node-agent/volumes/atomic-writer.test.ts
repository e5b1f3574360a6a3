import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DATA_DIR_NAME, payloadPathError, writeAtomic } from './atomic-writer';

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'mk-atomic-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes each file behind a ..data symlink, visible names linking through it', async () => {
    expect(await writeAtomic(dir, { 'game.properties': { content: 'lives=3', mode: 0o644 }, 'sub/dir/key': { content: 'v', mode: 0o400 } })).toBe(true);
    expect(await readFile(path.join(dir, 'game.properties'), 'utf8')).toBe('lives=3');
    expect(await readFile(path.join(dir, 'sub/dir/key'), 'utf8')).toBe('v');
    expect(await readlink(path.join(dir, 'game.properties'))).toBe(`${DATA_DIR_NAME}/game.properties`);
    expect(await readlink(path.join(dir, 'sub'))).toBe(`${DATA_DIR_NAME}/sub`);
    expect((await readlink(path.join(dir, DATA_DIR_NAME))).startsWith('..')).toBe(true);
    expect((await stat(path.join(dir, 'sub/dir/key'))).mode & 0o777).toBe(0o400);
    expect((await stat(path.join(dir, 'game.properties'))).mode & 0o777).toBe(0o644);
  });

  it('changes nothing when the files are already there, and swaps the data directory when one changes', async () => {
    await writeAtomic(dir, { a: { content: '1', mode: 0o644 }, b: { content: '2', mode: 0o644 } });
    const first = await readlink(path.join(dir, DATA_DIR_NAME));
    expect(await writeAtomic(dir, { a: { content: '1', mode: 0o644 }, b: { content: '2', mode: 0o644 } })).toBe(false);
    expect(await readlink(path.join(dir, DATA_DIR_NAME))).toBe(first);
    // A mode alone is a change too.
    expect(await writeAtomic(dir, { a: { content: '1', mode: 0o600 }, c: { content: '3', mode: 0o644 } })).toBe(true);
    const second = await readlink(path.join(dir, DATA_DIR_NAME));
    expect(second).not.toBe(first);
    expect((await readdir(dir)).sort()).toEqual([DATA_DIR_NAME, second, 'a', 'c'].sort());
    expect(await readFile(path.join(dir, 'c'), 'utf8')).toBe('3');
    expect((await stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o600);
  });

  it('finishes after a write cut short: stray timestamped dirs and ..data_tmp are removed, lost links made again', async () => {
    await writeAtomic(dir, { a: { content: '1', mode: 0o644 } });
    await mkdir(path.join(dir, '..2026_01_01_00_00_00.dead'));
    await symlink('..2026_01_01_00_00_00.dead', path.join(dir, '..data_tmp'));
    await rm(path.join(dir, 'a'));
    expect(await writeAtomic(dir, { a: { content: '1', mode: 0o644 } })).toBe(false);
    const data = await readlink(path.join(dir, DATA_DIR_NAME));
    expect((await readdir(dir)).sort()).toEqual([DATA_DIR_NAME, data, 'a'].sort());
    expect(await readFile(path.join(dir, 'a'), 'utf8')).toBe('1');
  });

  it('leaves a file that is not one of its links alone', async () => {
    await writeFile(path.join(dir, 'own'), 'x');
    await writeAtomic(dir, { a: { content: '1', mode: 0o644 } });
    expect((await lstat(path.join(dir, 'own'))).isFile()).toBe(true);
  });

  it('refuses absolute paths, .. elements and names starting with ..', async () => {
    await expect(writeAtomic(dir, { '/etc/passwd': { content: '', mode: 0o644 } })).rejects.toThrow('must be relative');
    await expect(writeAtomic(dir, { 'a/../../x': { content: '', mode: 0o644 } })).rejects.toThrow("must not contain '..'");
    expect(payloadPathError('..data')).toMatch(/must not start with/);
    expect(payloadPathError('a/b')).toBeUndefined();
  });
});
