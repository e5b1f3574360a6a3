/**
 * `mk top` on a whole `mk up` cluster with real containerd: a pod spinning a busy loop shows more
 * than 0.3 core, an idle one about none, both some memory; `mk top nodes` shows the node with its
 * percentages. Then the node agent is SIGKILLed: once its supervisor has started it again, reports
 * resume, and the rates (made again from two new samples) are neither negative nor absurd.
 * Reports every second (MK_STATS_INTERVAL) to keep the test short.
 */
import type { PodMetrics } from '../../../messages/usage';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const POD = (name: string, command: string[]): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: top-${name} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ${JSON.stringify(command)}
`;

describeE2e('mk top', () => {
  let c: TestCluster;
  const podMetrics = async (): Promise<PodMetrics[] | null> => {
    const r = await c.mk(['top', 'pods', '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { items: PodMetrics[] }).items : null;
  };
  const byName = (items: PodMetrics[], name: string): PodMetrics | undefined => items.find((p) => p.metadata.name === name);

  beforeAll(async () => { c = await startCluster({ env: { MK_STATS_INTERVAL: '1s' } }); });
  afterAll(async () => { await c?.destroy(); });

  it('shows a busy pod above 0.3 core, an idle one near 0, and the node with its percentages', async () => {
    const apply = await c.mk(['apply', '-f', '-'], { stdin: `${POD('busy', ['sh', '-c', 'while :; do :; done'])}---\n${POD('idle', ['sleep', '3600'])}` });
    expect(apply.code).toBe(0);
    const items = await waitFor('the busy pod above 0.3 core in mk top pods', async () => {
      const m = await podMetrics();
      const busy = m && byName(m, 'busy');
      return m && busy && byName(m, 'idle') && busy.raw.cpuNanoCores > 0.3e9 ? m : null;
    }, 120_000);
    const idle = byName(items, 'idle')!;
    expect(idle.raw.cpuNanoCores).toBeLessThan(0.05e9);
    expect(idle.raw.memoryBytes).toBeGreaterThan(0);
    expect(byName(items, 'busy')!.raw.memoryBytes).toBeGreaterThan(0);
    const table = await c.mk(['top', 'pods']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\n/);
    expect(table.stdout).toMatch(/\nbusy\s+\d{3,}m\s+\d+Mi\n/);
    expect(table.stdout).toMatch(/\nidle\s+\d{1,2}m\s+\d+Mi\n/);
    const nodes = await waitFor('mk top nodes', async () => { const r = await c.mk(['top', 'nodes']); return r.code === 0 ? r : null; }, 30_000);
    expect(nodes.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%\n\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\n$/);
  });

  it('reports again after the node agent is SIGKILLed, with sane rates', async () => {
    const agent = c.pidOf('node-agent');
    expect(agent).toBeDefined();
    const killedAt = Date.now();
    process.kill(agent!, 'SIGKILL');
    await waitFor('the node agent restarted', async () => { const p = c.pidOf('node-agent'); return p && p !== agent ? p : null; }, 60_000);
    const cores = (await c.run(['nproc'])).stdout.trim();
    const fresh = await waitFor('a report from the restarted agent', async () => {
      const m = await podMetrics();
      const busy = m && byName(m, 'busy');
      return busy && Date.parse(busy.timestamp) > killedAt + 1000 ? m : null;
    }, 120_000);
    // A few reports in a row: none negative, none above the machine's CPUs.
    let seen = fresh;
    for (let i = 0; i < 3; i++) {
      for (const p of seen) {
        expect(p.raw.cpuNanoCores).toBeGreaterThanOrEqual(0);
        expect(p.raw.cpuNanoCores).toBeLessThanOrEqual(Number(cores) * 1.1e9);
        expect(p.raw.memoryBytes).toBeGreaterThan(0);
      }
      const at = Date.parse(byName(seen, 'busy')!.timestamp);
      seen = await waitFor('the next report', async () => {
        const m = await podMetrics();
        const busy = m && byName(m, 'busy');
        return busy && Date.parse(busy.timestamp) > at ? m : null;
      }, 30_000);
    }
    expect(byName(seen, 'busy')!.raw.cpuNanoCores).toBeGreaterThan(0.3e9);
    expect((await c.mk(['delete', 'pods', 'busy', 'idle', '--timeout', '60'], { timeoutMs: 120_000 })).code).toBe(0);
  });
});
