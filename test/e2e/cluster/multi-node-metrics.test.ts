/**
 * `mk up --nodes 2` and metrics: each node agent serves `/metrics` on its node's bridge address
 * (inside its own network namespace), `mk up` prints that URL, and the host reaches it; the
 * control plane's stays on loopback. The ports are kept: a second `mk up` after `mk down` uses
 * the same ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { canRunE2e, startMultiNodeCluster, type MultiNodeCluster } from '../../helpers/multi-node';
import { hasPromtool, parsePromText, promtoolCheck, sumOf, type PromFamily } from '../../helpers/prom-text';
import { waitFor } from '../../helpers/wait';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

type Endpoints = Record<string, { host: string; port: number }>;

describeE2e('metrics of mk up --nodes 2', () => {
  let c: MultiNodeCluster;
  const endpoints = (): Endpoints => JSON.parse(fs.readFileSync(path.join(c.dataDir, 'metrics.json'), 'utf8')) as Endpoints;

  /** GET of `url` from the host namespace (where the bridge is), parsed strictly. */
  const scrape = async (url: string): Promise<Map<string, PromFamily>> => {
    const r = await c.run([process.execPath, '-e',
      `fetch(${JSON.stringify(url)}).then(async (r) => { if (r.status !== 200) process.exit(2); process.stdout.write(await r.text()); }, (e) => { console.error(String(e)); process.exit(3); })`]);
    if (r.code !== 0) throw new Error(`GET ${url} failed (${r.code}): ${r.stderr}`);
    if (hasPromtool()) expect(promtoolCheck(r.stdout)).toBe('');
    return parsePromText(r.stdout);
  };

  beforeAll(async () => { c = await startMultiNodeCluster({ nodes: 2 }); });
  afterAll(async () => { await c?.destroy(); });

  it('serves each node agent\'s metrics on its bridge address, printed by mk up', async () => {
    const e = endpoints();
    expect(Object.keys(e).sort()).toEqual(['control-plane', 'node-agent', 'node-agent-2']);
    expect(e['control-plane'].host).toBe('127.0.0.1');
    for (const [child, node] of [['node-agent', c.nodes[0]], ['node-agent-2', c.nodes[1]]] as const) {
      expect(e[child]).toEqual({ host: node.address, port: 10249 });
      const url = `http://${node.address}:10249/metrics`;
      expect(c.upOutput).toContain(url);
      const fams = await waitFor(`${child}'s metrics`, async () => scrape(url).catch(() => undefined), 60_000);
      expect(sumOf(fams, 'mk_process_info', { role: 'node-agent', name: node.name })).toBe(1);
      expect(sumOf(fams, 'mk_nats_connected', { connection: `mk-node-${node.name}` })).toBe(1);
      expect(sumOf(fams, 'mk_cri_request_duration_seconds_count', { method: 'Version', code: 'OK' })).toBeGreaterThanOrEqual(1);
    }
    const cp = await scrape(`http://127.0.0.1:${e['control-plane'].port}/metrics`);
    expect(sumOf(cp, 'mk_api_requests_total', { verb: 'register', kind: 'nodes', code: 'OK' })).toBeGreaterThanOrEqual(2);
    expect(sumOf(cp, 'mk_api_requests_total', { verb: 'heartbeat', kind: 'nodes' })).toBeGreaterThanOrEqual(1);
  });

  it('keeps the ports for the next mk up', async () => {
    const first = endpoints();
    expect((await c.mk(['down'], { timeoutMs: 180_000 })).code).toBe(0);
    const up = await c.mk(['up', '--no-demo', '--timeout', '240'], { timeoutMs: 300_000 });
    expect(up.code).toBe(0);
    expect(endpoints()).toEqual(first);
    expect(up.stdout).toContain(`http://127.0.0.1:${first['control-plane'].port}/metrics`);
  });
});
