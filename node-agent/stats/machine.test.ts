import { machineCpuRate, parseMeminfo, parseProcStat, readMachine } from './machine';

const STAT = (user: number, idle: number): string => [
  `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0`,
  `cpu0 ${user / 2} 0 0 ${idle / 2} 0 0 0 0 0 0`,
  `cpu1 ${user / 2} 0 0 ${idle / 2} 0 0 0 0 0 0`,
  'intr 1 2 3',
].join('\n');

describe('machine readings', () => {
  it('turns two /proc/stat readings into nanocores over all CPUs', () => {
    const a = parseProcStat(STAT(100, 100))!;
    const b = parseProcStat(STAT(150, 250))!;
    expect(a.cpus).toBe(2);
    // 50 busy ticks of 200: a quarter of two CPUs, half a core.
    expect(machineCpuRate(a, b)).toBe(0.5e9);
    expect(machineCpuRate(undefined, b)).toBeUndefined();
    expect(machineCpuRate(b, b)).toBeUndefined();
  });

  it('counts iowait as idle, and refuses text without a cpu line', () => {
    const t = parseProcStat('cpu  10 0 0 20 30 0 0 0\ncpu0 10 0 0 20 30 0 0 0\n')!;
    expect(t).toEqual({ busy: 10, total: 60, cpus: 1 });
    expect(parseProcStat('intr 1\n')).toBeUndefined();
  });

  it('takes MemTotal - MemAvailable as the working set', () => {
    expect(parseMeminfo('MemTotal:       2048 kB\nMemFree:        100 kB\nMemAvailable:   512 kB\n')).toBe(1536 * 1024);
    expect(parseMeminfo('MemTotal:       2048 kB\n')).toBeUndefined();
  });

  it('reads this machine', async () => {
    const m = await readMachine();
    expect(m.memoryBytes).toBeGreaterThan(0);
    expect(m.cpu?.total).toBeGreaterThan(0);
  });
});
