/**
 * Metrics end to end: `mk up` (in a network namespace) gives the control plane and the node agent
 * a `/metrics` endpoint and prints where; after real pods start on real containerd, the node
 * agent's metrics time its CRI calls by method and the control plane's count each pod's start
 * once, whatever status writes follow.
 */
import fs from 'node:fs';
import path from 'node:path';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';
import { hasPromtool, parsePromText, promtoolCheck, samplesOf, sumOf, type PromFamily } from '../../helpers/prom-text';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const podYaml = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "exec sleep 3600"]
`;

describeE2e('metrics of a mk up cluster', () => {
  let c: TestCluster;
  let urls: Record<string, { host: string; port: number }>;

  /** Scrapes `name`'s /metrics from inside the cluster's namespace, where it listens. */
  const scrapeIn = async (name: string): Promise<Map<string, PromFamily>> => {
    const e = urls[name];
    const r = await c.run([process.execPath, '-e',
      `fetch(${JSON.stringify(`http://${e.host}:${e.port}/metrics`)}).then(async (r) => { if (r.status !== 200) process.exit(2); process.stdout.write(await r.text()); }, () => process.exit(3))`]);
    if (r.code !== 0) throw new Error(`scrape of ${name} failed (${r.code}): ${r.stderr}`);
    if (hasPromtool()) expect(promtoolCheck(r.stdout)).toBe('');
    return parsePromText(r.stdout);
  };
  const running = (name: string) => waitFor(`pod ${name} Running`, async () => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    return r.code === 0 && (JSON.parse(r.stdout) as { status?: { phase?: string } }).status?.phase === 'Running';
  }, 120_000);

  beforeAll(async () => {
    c = await startCluster({ demo: true });
    urls = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'metrics.json'), 'utf8')) as typeof urls;
  });
  afterAll(async () => { await c?.destroy(); });

  it('prints where each process serves its metrics', () => {
    expect(Object.keys(urls).sort()).toEqual(['control-plane', 'node-agent']);
    for (const [name, e] of Object.entries(urls)) {
      expect(e.host).toBe('127.0.0.1');
      expect(c.upStdout).toMatch(new RegExp(`^ +${name} +http://127\\.0\\.0\\.1:${e.port}/metrics$`, 'm'));
    }
  });

  it('times the node agent\'s CRI calls by method, and counts each pod start once', async () => {
    // The demo pod ran already (mk up waited for it); a second pod starts now.
    const before = await scrapeIn('control-plane');
    expect(sumOf(before, 'mk_pod_start_duration_seconds_count')).toBe(1);
    expect(sumOf(before, 'mk_scheduler_attempts_total', { result: 'scheduled' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(before, 'mk_scheduler_pod_scheduling_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sumOf(before, 'mk_api_requests_total', { verb: 'pod-status', kind: 'pods', code: 'OK' })).toBeGreaterThanOrEqual(1);

    expect((await c.mk(['apply', '-f', '-'], { stdin: podYaml('second') })).code).toBe(0);
    await running('second');
    // The second pod's status is written several times on its way (Pending, Running, Ready):
    // it counts once, and the demo pod is not counted again.
    const after = await waitFor('the second pod\'s start counted', async () => {
      const f = await scrapeIn('control-plane');
      return sumOf(f, 'mk_pod_start_duration_seconds_count') >= 2 ? f : undefined;
    }, 60_000);
    expect(sumOf(after, 'mk_pod_start_duration_seconds_count')).toBe(2);
    expect(sumOf(after, 'mk_pods_started_total')).toBe(2);
    const sum = sumOf(after, 'mk_pod_start_duration_seconds_sum');
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(600);

    const node = await scrapeIn('node-agent');
    for (const method of ['RunPodSandbox', 'CreateContainer', 'StartContainer']) {
      expect(sumOf(node, 'mk_cri_request_duration_seconds_count', { method, code: 'OK' })).toBeGreaterThanOrEqual(2);
    }
    expect(samplesOf(node, 'mk_cri_request_duration_seconds_bucket', { method: 'RunPodSandbox', code: 'OK', le: '+Inf' })).toHaveLength(1);
    expect(sumOf(node, 'mk_process_info', { role: 'node-agent' })).toBe(1);
    expect(sumOf(node, 'mk_nats_connected')).toBeGreaterThanOrEqual(1);
    expect(sumOf(node, 'mk_watch_lag_seconds_count')).toBeGreaterThan(0);
  });
});
