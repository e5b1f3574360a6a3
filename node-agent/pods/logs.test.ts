import { mkdtemp, rename, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NotFoundError } from '../../messages/errors';
import { FakeCriRuntime, makePod } from './fixtures';
import { buildContainerConfig, buildSandboxConfig } from './cri-spec';
import { followContainerLogs, parseCriLogLine, readContainerLogs, resolveLogPath } from './logs';

const TS = '2024-05-01T10:00:00.123456789Z';
const rec = (stream: string, tag: string, content: string, ts = TS): string => `${ts} ${stream} ${tag} ${content}\n`;

describe('CRI log files', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'mk-logs-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('parses records, empty content included', () => {
    expect(parseCriLogLine(`${TS} stderr P part one`)).toEqual({ timestamp: TS, stream: 'stderr', partial: true, content: 'part one' });
    expect(parseCriLogLine(`${TS} stdout F `)).toEqual({ timestamp: TS, stream: 'stdout', partial: false, content: '' });
    expect(parseCriLogLine('garbage')).toBeNull();
  });

  it('joins partial lines, applies tail and timestamps, and reads a missing file as empty', async () => {
    const file = path.join(dir, '0.log');
    await writeFile(file, rec('stdout', 'F', 'one') + rec('stdout', 'P', 'tw') + rec('stderr', 'F', 'err', '2024-05-01T10:00:01Z') + rec('stdout', 'F', 'o') + rec('stdout', 'F', 'three'));
    expect((await readContainerLogs({ logPath: file })).toString()).toBe('one\nerr\ntwo\nthree\n');
    expect((await readContainerLogs({ logPath: file, tailLines: 2 })).toString()).toBe('two\nthree\n');
    expect((await readContainerLogs({ logPath: file, tailLines: 1, timestamps: true })).toString()).toBe(`${TS} three\n`);
    expect((await readContainerLogs({ logPath: path.join(dir, 'none.log') })).length).toBe(0);
  });

  it('follows new lines, survives rotation, and drains then ends when the container stops', async () => {
    const file = path.join(dir, '0.log');
    await writeFile(file, rec('stdout', 'F', 'old1') + rec('stdout', 'F', 'old2'));
    let out = '';
    let running = true;
    const ac = new AbortController();
    const done = followContainerLogs({ logPath: file, tailLines: 1, signal: ac.signal, pollIntervalMs: 10, isRunning: async () => running, onData: (b) => { out += b.toString(); } });
    const until = async (text: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}; got ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await until('old2\n');
    await appendFile(file, rec('stdout', 'P', 'new') + rec('stdout', 'F', '1'));
    await until('new1\n');
    await rename(file, `${file}.1`);
    await writeFile(file, rec('stdout', 'F', 'rotated'));
    await until('rotated\n');
    await appendFile(file, rec('stdout', 'F', 'last'));
    running = false;
    await done;
    expect(out).toBe('old2\nnew1\nrotated\nlast\n');
    ac.abort();
  });

  it('ends at once when aborted', async () => {
    const ac = new AbortController();
    const p = followContainerLogs({ logPath: path.join(dir, 'absent.log'), signal: ac.signal, pollIntervalMs: 10, isRunning: async () => true, onData: () => undefined });
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });
});

describe('resolveLogPath', () => {
  const pod = makePod({ restartPolicy: 'Always' });
  async function withInstances(exits: number[], lastRunning: boolean): Promise<FakeCriRuntime> {
    const cri = new FakeCriRuntime();
    const { podSandboxId } = await cri.runPodSandbox({ config: buildSandboxConfig(pod, { podLogsRoot: '/logs' }, 0) });
    const n = exits.length + (lastRunning ? 1 : 0);
    for (let attempt = 0; attempt < n; attempt++) {
      const { containerId } = await cri.createContainer({ podSandboxId, config: buildContainerConfig(pod, pod.spec.containers[0], attempt), sandboxConfig: buildSandboxConfig(pod, { podLogsRoot: '/logs' }, 0) });
      await cri.startContainer({ containerId });
      if (attempt < exits.length) cri.exit('app', exits[attempt]);
    }
    return cri;
  }
  const dirOf = '/logs/default_web_uid-1/app';

  it('gives the current instance, or the previous terminated one', async () => {
    const cri = await withInstances([1], true);
    expect(await resolveLogPath(cri, pod, undefined, false)).toBe(`${dirOf}/1.log`);
    expect(await resolveLogPath(cri, pod, 'app', true)).toBe(`${dirOf}/0.log`);
  });

  it('in CrashLoopBackOff, previous is the instance that just exited (lastState)', async () => {
    const cri = await withInstances([1, 1], false);
    expect(await resolveLogPath(cri, pod, 'app', true)).toBe(`${dirOf}/1.log`);
  });

  it("fails like kubectl when there is nothing to show", async () => {
    const cri = await withInstances([], true);
    await expect(resolveLogPath(cri, pod, 'app', true)).rejects.toThrow(new NotFoundError('previous terminated container "app" in pod "web" not found'));
    await expect(resolveLogPath(cri, pod, 'nope', false)).rejects.toThrow('container nope is not valid for pod web');
    await expect(resolveLogPath(new FakeCriRuntime(), pod, undefined, false)).rejects.toThrow('container "app" in pod "web" is waiting to start');
  });
});
