import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeDigest, pack, readArchive, unpack } from './code-archive';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-code-archive-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const write = (rel: string, text: string, mode = 0o644): void => {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
};

/** A ustar header block as a hostile archive would carry it (checksum filled in). */
function hostile(name: string, type = '0', data = 'x'): Uint8Array {
  return hostileMany([[name, type, data]]);
}

/** A hostile archive of several entries, `[name, type, data]` each, in order. */
function hostileMany(entries: Array<[string, string, string]>): Uint8Array {
  return new Uint8Array(Buffer.concat([...entries.map(([n, t, d]) => hostileEntry(n, t, d)), Buffer.alloc(1024)]));
}

function hostileEntry(name: string, type: string, data: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644', 100);
  h.write(data.length.toString(8).padStart(11, '0'), 124);
  h.fill(' ', 148, 156);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  body.write(data);
  return Buffer.concat([h, body]);
}

describe('pack', () => {
  it('packs the same tree to the same bytes whatever its mtimes, modes and creation order', () => {
    write('b.py', 'B = 2\n');
    write('lib/a.py', 'A = 1\n', 0o600);
    write('run.sh', '#!/bin/sh\n', 0o700);
    const first = pack(dir);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-code-archive-other-'));
    try {
      fs.writeFileSync(path.join(other, 'run.sh'), '#!/bin/sh\n', { mode: 0o750 });
      fs.mkdirSync(path.join(other, 'lib'));
      fs.writeFileSync(path.join(other, 'lib', 'a.py'), 'A = 1\n', { mode: 0o664 });
      fs.writeFileSync(path.join(other, 'b.py'), 'B = 2\n');
      fs.utimesSync(path.join(other, 'b.py'), new Date(1e12), new Date(1e12));
      const second = pack(other);
      expect(second.digest).toBe(first.digest);
      expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    expect(first.digest).toBe(codeDigest(first.bytes));
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.files).toBe(3);
    expect(first.size).toBe(first.bytes.length);
    expect(readArchive(first.bytes).map((e) => [e.name, e.dir, e.mode.toString(8)])).toEqual([
      ['b.py', false, '644'], ['lib', true, '755'], ['lib/a.py', false, '644'], ['run.sh', false, '755'],
    ]);
  });

  it('is read by GNU tar as the tree it packed, owned by root with mtime 0', () => {
    write('add.py', 'def handler(e):\n    return e\n');
    write('sub/x.txt', 'x');
    const out = path.join(dir, '..', `${path.basename(dir)}.tar`);
    try {
      fs.writeFileSync(out, pack(dir).bytes);
      const listing = execFileSync('tar', ['-tvf', out, '--numeric-owner'], { encoding: 'utf8' });
      expect(listing).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 add\.py$/m);
      expect(listing).toMatch(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 sub\/$/m);
    } finally {
      fs.rmSync(out, { force: true });
    }
  });

  it('packs a single file by its base name', () => {
    write('add.py', 'print(1)\n');
    const p = pack(path.join(dir, 'add.py'));
    expect(p.files).toBe(1);
    expect(readArchive(p.bytes).map((e) => e.name)).toEqual(['add.py']);
  });

  it('packs a link to a file inside the tree as that file, and refuses links that leave it', () => {
    write('real.py', 'R = 1\n');
    fs.symlinkSync('real.py', path.join(dir, 'alias.py'));
    const entries = readArchive(pack(dir).bytes);
    expect(entries.map((e) => [e.name, Buffer.from(e.data).toString()])).toEqual([['alias.py', 'R = 1\n'], ['real.py', 'R = 1\n']]);
    fs.symlinkSync('/etc/hostname', path.join(dir, 'escape'));
    expect(() => pack(dir)).toThrow(/escape: a symbolic link that leaves the directory/);
  });

  it('refuses a fifo, a missing path and code over the limit, naming them', () => {
    expect(() => pack(path.join(dir, 'nope'))).toThrow(/nope: no such file or directory/);
    write('big.bin', 'x'.repeat(4096));
    expect(() => pack(dir, 4096)).toThrow(/larger than the limit of 4096 bytes packed/);
    expect(() => pack(dir, 8192)).not.toThrow();
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    expect(() => pack(dir)).toThrow(/pipe: a device, fifo or socket cannot be packed/);
  });

  it('refuses a file over the limit by its size, before reading it', () => {
    // Sparse: 3 GiB that take no room, past what Node can read into one buffer.
    const huge = path.join(dir, 'huge.bin');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, 3 * 1024 * 1024 * 1024);
    write('a.py', 'A = 1\n');
    expect(() => pack(dir)).toThrow(/limit of 67108864 bytes packed \(64 MiB\) \(at .*huge\.bin, 3221225472 bytes\)/);
    expect(() => pack(huge)).toThrow(/limit of 67108864 bytes packed \(64 MiB\)/);
  });

  it('splits a long path at a "/" that fits both ustar fields, not only at the last one', () => {
    // The last "/" leaves 161 bytes before it (over 155); the first leaves 100 and a 91-byte name.
    const rel = `${'d'.repeat(100)}/${'e'.repeat(60)}/${'f'.repeat(30)}.py`;
    write(rel, 'F = 1\n');
    const names = readArchive(pack(dir).bytes).map((e) => e.name);
    expect(names).toContain(rel);
    const out = path.join(dir, '..', `${path.basename(dir)}.tar`);
    try {
      fs.writeFileSync(out, pack(dir).bytes);
      expect(execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n')).toContain(rel);
    } finally {
      fs.rmSync(out, { force: true });
    }
    write(`${'g'.repeat(200)}/${'h'.repeat(20)}.py`, '');
    expect(() => pack(dir)).toThrow(/g{200}\/: the path is too long to pack/);
  });

  it('names the limit in MiB for the default limit', () => {
    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(64 * 1024 * 1024));
    expect(() => pack(big)).toThrow(/limit of 67108864 bytes packed \(64 MiB\)/);
  });
});

describe('unpack', () => {
  it('restores the files, directories and modes it packed', () => {
    write('lib/a.py', 'A = 1\n');
    write('run.sh', '#!/bin/sh\n', 0o755);
    const dest = path.join(dir, '..', `${path.basename(dir)}-out`);
    try {
      unpack(pack(dir).bytes, dest);
      expect(fs.readFileSync(path.join(dest, 'lib', 'a.py'), 'utf8')).toBe('A = 1\n');
      expect(fs.statSync(path.join(dest, 'run.sh')).mode & 0o777).toBe(0o755);
      expect(fs.statSync(path.join(dest, 'lib', 'a.py')).mode & 0o777).toBe(0o644);
    } finally {
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });

  it.each([
    ['../evil.py', /path with "\.\."/],
    ['a/../../evil.py', /path with "\.\."/],
    ['/etc/evil', /absolute or empty path/],
  ])('refuses %s and writes nothing', (name, error) => {
    const dest = path.join(dir, 'out');
    expect(() => unpack(hostile(name), dest)).toThrow(error);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'evil.py'))).toBe(false);
  });

  it.each([
    ['an empty name', [['./', '5', ''], ['a.py', '0', 'x']], /an empty name: "\.\/"/],
    ['the name "."', [['.', '5', '']], /an empty name: "\."/],
    ['a name twice', [['a.py', '0', 'one'], ['./a.py', '0', 'two']], /holds "a\.py" more than once/],
    ['a file and a directory of one name', [['lib', '5', ''], ['lib/', '5', ''], ['x', '0', 'x']], /holds "lib" more than once/],
    ['a file that is also a directory', [['lib', '0', 'x'], ['lib/', '5', '']], /holds "lib" more than once/],
    ['an entry under a file', [['lib', '0', 'x'], ['lib/a.py', '0', 'y']], /holds "lib\/a\.py" under "lib", which it also holds as a file/],
    ['an entry deep under a file', [['lib/a/b.py', '0', 'y'], ['lib/a', '0', 'x']], /holds "lib\/a\/b\.py" under "lib\/a"/],
  ] as Array<[string, Array<[string, string, string]>, RegExp]>)('refuses %s and writes nothing', (_what, entries, error) => {
    const dest = path.join(dir, 'out');
    expect(() => unpack(hostileMany(entries), dest)).toThrow(error);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('refuses links and devices, a bad checksum and a truncated archive', () => {
    expect(() => readArchive(hostile('link', '2'))).toThrow(/not a file or a directory \(type "2"\)/);
    expect(() => readArchive(hostile('dev', '3'))).toThrow(/not a file or a directory/);
    const bad = hostile('ok.py');
    bad[0] = 'O'.charCodeAt(0);
    expect(() => readArchive(bad)).toThrow(/checksum does not match/);
    expect(() => readArchive(hostile('ok.py').subarray(0, 512))).toThrow(/truncated/);
  });
});
