import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  findContainerdByConfig, isAlive, ownedFromPidFile, parseProcStat, processArgs, processIdentity, readPidFile,
  removePidFile, runsConfig, socketListening, watchProcess, writePidFile,
} from './pid';

// readFile as it is, counted: watchProcess's polls are its reads of /proc/<pid>/stat.
jest.mock('node:fs/promises', () => {
  const actual = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return { ...actual, readFile: jest.fn(actual.readFile) };
});

/** How many times /proc/<pid>/stat has been read (each a poll of watchProcess, or an identity). */
const statReads = (pid: number): number => jest.mocked(readFile).mock.calls.filter(([f]) => f === `/proc/${pid}/stat`).length;

/**
 * A fake containerd: an idle node process whose command line reads `containerd --config <path>`
 * (argv0 set to "containerd"), which is all the identification looks at.
 */
function fakeContainerd(configPath: string): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '--config', configPath], { argv0: 'containerd', stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

describe('process identity', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'mk-pid-')); });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await exited(c);
    }
    await rm(dir, { recursive: true, force: true });
  });
  const start = (c: ChildProcess): ChildProcess => { children.push(c); return c; };

  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const st = parseProcStat(`42 (a) b (c) ${fields.join(' ')}`);
    expect(st).toEqual({ state: 'S', ppid: 4, startTime: 22 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('names a live process by pid and start time, and not a pid reused by another', async () => {
    const me = await processIdentity(process.pid);
    expect(me?.pid).toBe(process.pid);
    expect(await isAlive(me!)).toBe(true);
    expect(await isAlive({ pid: process.pid, startTime: me!.startTime + 1 })).toBe(false);
    expect(await processIdentity(2 ** 22 + 1)).toBeUndefined();
    expect(await processIdentity(0)).toBeUndefined();
  });

  it('recognizes containerd running a given config, and nothing else', () => {
    const cfg = '/data/containerd/config.toml';
    expect(runsConfig(['containerd', '--config', cfg], cfg)).toBe(true);
    expect(runsConfig(['/usr/bin/containerd', '-c', cfg], cfg)).toBe(true);
    expect(runsConfig(['containerd', `--config=${cfg}`], cfg)).toBe(true);
    expect(runsConfig(['containerd', '--config', '/data/containerd/../containerd/config.toml'], cfg)).toBe(true);
    expect(runsConfig(['containerd', '--config', '/other/config.toml'], cfg)).toBe(false);
    expect(runsConfig(['containerd'], cfg)).toBe(false);
    expect(runsConfig(['containerd-shim-runc-v2', '--config', cfg], cfg)).toBe(false);
    expect(runsConfig(['sleep', '--config', cfg], cfg)).toBe(false);
    expect(runsConfig([], cfg)).toBe(false);
  });

  it('finds a fake containerd by its config, from the pid file or by scanning /proc', async () => {
    const cfg = path.join(dir, 'config.toml');
    const pidFile = path.join(dir, 'containerd.pid');
    const fake = start(fakeContainerd(cfg));
    const other = start(fakeContainerd(path.join(dir, 'other.toml')));
    await Promise.all([fake, other].map((c) => new Promise((r) => c.once('spawn', r))));
    expect(await processArgs(fake.pid!)).toEqual(['containerd', '-e', 'setInterval(() => {}, 1000)', '--', '--config', cfg]);

    const found = await findContainerdByConfig(cfg);
    expect(found.map((p) => p.pid)).toEqual([fake.pid]);
    expect(await ownedFromPidFile(pidFile, cfg)).toBeUndefined();
    await writePidFile(pidFile, fake.pid!);
    expect(await ownedFromPidFile(pidFile, cfg)).toEqual(found[0]);
    // A pid file naming some other process (a recycled pid) is not ours.
    await writePidFile(pidFile, other.pid!);
    expect(await ownedFromPidFile(pidFile, cfg)).toBeUndefined();

    fake.kill('SIGKILL');
    await exited(fake);
    expect(await findContainerdByConfig(cfg)).toEqual([]);
  });

  it('notices a watched process die at the first poll after it died, and stops watching on abort', async () => {
    const child = start(spawn('sleep', ['30'], { stdio: 'ignore' }));
    await new Promise((r) => child.once('spawn', r));
    const id = (await processIdentity(child.pid!))!;
    const gone = watchProcess(id, 100);
    child.kill('SIGKILL');
    await exited(child);
    // From here on every read finds it gone: the one poll that follows (if the watch has not
    // seen it already) ends the watch.
    const pollsBefore = statReads(child.pid!);
    expect(await gone).toBe(true);
    expect(statReads(child.pid!) - pollsBefore).toBeLessThanOrEqual(1);

    const me = (await processIdentity(process.pid))!;
    const ac = new AbortController();
    const watching = watchProcess(me, 50, ac.signal);
    ac.abort();
    expect(await watching).toBe(false);
    expect(await watchProcess(me, 50, ac.signal)).toBe(false);
  });

  it('writes pid files whole and removes only its own', async () => {
    const file = path.join(dir, 'containerd.pid');
    expect(await readPidFile(file)).toBeUndefined();
    await writePidFile(file, 1234);
    expect(await readFile(file, 'utf8')).toBe('1234\n');
    expect(await readPidFile(file)).toBe(1234);
    await removePidFile(file, 999);
    expect(await readPidFile(file)).toBe(1234);
    await removePidFile(file, 1234);
    expect(await readPidFile(file)).toBeUndefined();
    await writeFile(file, 'not a pid');
    expect(await readPidFile(file)).toBeUndefined();
    await removePidFile(file);
    await expect(readFile(file)).rejects.toThrow();
  });

  it('tells a listening unix socket from a missing or abandoned one', async () => {
    const sock = path.join(dir, 's.sock');
    expect(await socketListening(sock)).toBe(false);
    const server: Server = createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      expect(await socketListening(sock)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
    // A socket file nobody listens on any more (what a killed containerd leaves) refuses at once.
    const listener = start(spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] }));
    await new Promise((r) => listener.stdout!.once('data', r));
    expect(await socketListening(sock)).toBe(true);
    listener.kill('SIGKILL');
    await exited(listener);
    expect(existsSync(sock)).toBe(true);
    // Refused, not timed out: its timer is fake and never advanced, so only the refusal can answer.
    jest.useFakeTimers();
    try {
      expect(await socketListening(sock)).toBe(false);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
