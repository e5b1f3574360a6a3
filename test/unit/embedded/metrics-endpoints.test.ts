import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { metricsArgs, readMetricsEndpoints, resolveMetricsEndpoints } from '../../../embedded/metrics-endpoints';
import { clusterPaths } from '../../../embedded/paths';

let dir: string;
const servers: net.Server[] = [];
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-metrics-ep-')); });
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('metrics endpoints of mk up', () => {
  it('picks distinct free ports once, keeps them for the next start, and takes fixed ports as given', async () => {
    const paths = clusterPaths(dir);
    const wants = [
      { name: 'control-plane' as const, host: '127.0.0.1' },
      { name: 'control-plane-2' as const, host: '127.0.0.1' },
      { name: 'node-agent-2' as const, host: '172.30.0.12', port: 10249 },
    ];
    const first = await resolveMetricsEndpoints(paths, wants);
    expect(first['node-agent-2']).toEqual({ host: '172.30.0.12', port: 10249 });
    expect(first['control-plane']!.port).not.toBe(first['control-plane-2']!.port);
    expect(readMetricsEndpoints(paths)).toEqual(first);
    const sd = JSON.parse(fs.readFileSync(path.join(dir, 'prometheus-targets.json'), 'utf8')) as unknown;
    expect(sd).toEqual([
      { targets: [`127.0.0.1:${first['control-plane']!.port}`], labels: { mk_process: 'control-plane', mk_role: 'control-plane' } },
      { targets: [`127.0.0.1:${first['control-plane-2']!.port}`], labels: { mk_process: 'control-plane-2', mk_role: 'control-plane' } },
      { targets: ['172.30.0.12:10249'], labels: { mk_process: 'node-agent-2', mk_role: 'node-agent' } },
    ]);
    expect(await resolveMetricsEndpoints(paths, wants)).toEqual(first);
    expect(metricsArgs(first['node-agent-2'])).toEqual(['--metrics-address', '172.30.0.12', '--metrics-port', '10249']);
  });

  it('moves a kept port that something else took meanwhile, and says so', async () => {
    const paths = clusterPaths(dir);
    const first = await resolveMetricsEndpoints(paths, [{ name: 'control-plane', host: '127.0.0.1' }]);
    const squatter = net.createServer();
    servers.push(squatter);
    await new Promise<void>((r) => squatter.listen(first['control-plane']!.port, '127.0.0.1', r));
    const said: string[] = [];
    const next = await resolveMetricsEndpoints(paths, [{ name: 'control-plane', host: '127.0.0.1' }], (l) => said.push(l));
    expect(next['control-plane']!.port).not.toBe(first['control-plane']!.port);
    expect(said.join('\n')).toMatch(/metrics port \d+ of control-plane is taken now/);
  });

  it('reads nothing from a missing or broken file', () => {
    const paths = clusterPaths(dir);
    expect(readMetricsEndpoints(paths)).toEqual({});
    fs.writeFileSync(path.join(dir, 'metrics.json'), '{ nope');
    expect(readMetricsEndpoints(paths)).toEqual({});
  });
});
