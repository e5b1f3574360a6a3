import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartDelay, Supervisor, DEFAULT_BACKOFF, type ChildSpec } from '../../../embedded/supervisor';
import { isAlive, livePid, readPid } from '../../../embedded/processes';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-sup-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function spec(name: string, script: string, extra: Partial<ChildSpec> = {}): ChildSpec {
  return {
    name, command: process.execPath, args: ['-e', script, dir],
    logFile: path.join(dir, `${name}.log`), pidFile: path.join(dir, `${name}.pid`), stopTimeoutMs: 2000, ...extra,
  };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('restartDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => restartDelay(n))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(DEFAULT_BACKOFF.resetAfterMs).toBe(60_000);
  });
});

describe('Supervisor', () => {
  it('starts children in order, writes pid files and logs to each child\'s file', async () => {
    const lines: string[] = [];
    const sup = new Supervisor([
      spec('one', 'console.log("one up"); setInterval(() => {}, 1000)', { ready: async () => { await until(() => fs.existsSync(path.join(dir, 'one.pid'))); } }),
      spec('two', 'console.log("two up"); setInterval(() => {}, 1000)'),
    ], (l) => lines.push(l));
    await sup.start();
    const one = readPid(path.join(dir, 'one.pid'))!;
    const two = readPid(path.join(dir, 'two.pid'))!;
    expect(one).toBe(sup.pidOf('one'));
    expect(livePid(path.join(dir, 'two.pid'), dir)).toBe(two);
    await until(() => fs.readFileSync(path.join(dir, 'two.log'), 'utf8').includes('two up'));
    expect(lines.findIndex((l) => l.startsWith('started one'))).toBeLessThan(lines.findIndex((l) => l.startsWith('started two')));
    await sup.stop();
    expect(isAlive(one) || isAlive(two)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'one.pid'))).toBe(false);
    // stopped in reverse order
    expect(lines.findIndex((l) => l.startsWith('stopping two'))).toBeLessThan(lines.findIndex((l) => l.startsWith('stopping one')));
  });

  it('restarts a crashing child with growing delays', async () => {
    const lines: string[] = [];
    const counter = path.join(dir, 'count');
    const script = `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(counter)}, 'x'); process.exit(3)`;
    const sup = new Supervisor([spec('crashy', script)], (l) => lines.push(l), { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 });
    await sup.start();
    await until(() => fs.existsSync(counter) && fs.readFileSync(counter, 'utf8').length >= 4);
    await sup.stop();
    const delays = lines.filter((l) => l.includes('restarting in')).map((l) => l);
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(delays[0]).toMatch(/crashy exited \(code 3\); restarting in 0 s/);
    const n = fs.readFileSync(counter, 'utf8').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(fs.readFileSync(counter, 'utf8').length).toBe(n); // no restart after stop
  });

  it('SIGKILLs a child that ignores SIGTERM after its deadline', async () => {
    const lines: string[] = [];
    const sup = new Supervisor([spec('stubborn', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)', { stopTimeoutMs: 300 })], (l) => lines.push(l));
    await sup.start();
    await until(() => fs.existsSync(path.join(dir, 'stubborn.log')) && fs.readFileSync(path.join(dir, 'stubborn.log'), 'utf8').includes('ready'));
    const pid = sup.pidOf('stubborn')!;
    await sup.stop();
    expect(isAlive(pid)).toBe(false);
    expect(lines.some((l) => l.includes('did not stop within 300 ms; SIGKILL'))).toBe(true);
  });
});
