import type { CriClient } from '../../node-agent/cri';
import { busyShare, parseProcStat, waitForQuietCpu, waitForQuietNode } from './quiet';

/** A fake containerd that holds `left` sandboxes for its first `busyCalls` listings, then none. */
function fakeCri(busyCalls: number): CriClient {
  let calls = 0;
  return {
    listPodSandbox: async () => ({ items: calls++ < busyCalls ? [{ id: 'sb' }] : [] }),
    listContainers: async () => ({ containers: [] }),
  } as unknown as CriClient;
}

describe('quiet node', () => {
  const stat = (user: number, idle: number, iowait: number) =>
    `cpu  ${user} 0 10 ${idle} ${iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n`;

  it('reads the aggregate cpu line of /proc/stat', () => {
    expect(parseProcStat(stat(100, 800, 50))).toEqual({ total: 960, idle: 850 });
    expect(() => parseProcStat('intr 1\n')).toThrow(/no aggregate cpu line/);
  });

  it('counts iowait as idle and everything else as busy', () => {
    const a = parseProcStat(stat(100, 800, 50));
    const b = parseProcStat(stat(150, 1000, 100));
    // 300 jiffies passed, 250 idle or iowait: one in six busy.
    expect(busyShare(a, b)).toBeCloseTo(50 / 300, 5);
    expect(busyShare(a, a)).toBe(0);
  });

  it('waits until containerd holds nothing', async () => {
    const cri = fakeCri(3);
    // A threshold above 100 % makes the CPU count as idle whatever else runs on this machine.
    const q = await waitForQuietNode(cri, { busyBelow: 1.01, windowMs: 10, deadlineMs: 10_000 });
    expect(q.idle).toBe(true);
    expect(q.waitedMs).toBeGreaterThanOrEqual(300);
  });

  it('waits for the extra condition too', async () => {
    let asked = 0;
    const q = await waitForQuietNode(fakeCri(0), { busyBelow: 1.01, windowMs: 10, deadlineMs: 10_000, alsoWaitFor: async () => ++asked >= 2 });
    expect(asked).toBe(2);
    expect(q.idle).toBe(true);
  });

  it('throws when containerd still holds something at the deadline', async () => {
    await expect(waitForQuietNode(fakeCri(Infinity), { deadlineMs: 300 })).rejects.toThrow(/still holds 1 sandboxes and 0 containers/);
  });

  it('reports a CPU that stays busy instead of throwing', async () => {
    // A threshold of 0 can never be met: the deadline passes and the busy share is reported.
    const q = await waitForQuietNode(fakeCri(0), { busyBelow: 0, windowMs: 20, deadlineMs: 100 });
    expect(q.idle).toBe(false);
    expect(q.waitedMs).toBeGreaterThanOrEqual(100);
  });

  it('waits for an idle CPU alone, and reports one that stays busy', async () => {
    const idle = await waitForQuietCpu({ busyBelow: 1.01, windowMs: 10, deadlineMs: 10_000 });
    expect(idle.idle).toBe(true);
    const busy = await waitForQuietCpu({ busyBelow: 0, windowMs: 20, deadlineMs: 100 });
    expect(busy.idle).toBe(false);
    expect(busy.waitedMs).toBeGreaterThanOrEqual(100);
  });
});
