/**
 * `mk control-plane --metrics-port 0` (the built CLI, as `mk up` runs it) against a real
 * nats-server: its `/metrics` parses strictly and counts what the control plane did (api requests
 * by verb and kind, their latency, watch lag, scheduling attempts), and its NATS gauge follows the
 * server going away and coming back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, request, type Bus } from '../../../bus';
import { writeContext } from '../../../embedded/context';
import { terminate } from '../../../embedded/processes';
import { API, type GetResult } from '../../../messages';
import { scrape } from '../../helpers/metrics';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { samplesOf, sumOf } from '../../helpers/prom-text';
import { until, waitFor } from '../../helpers/wait';
import { ensureBuilt, ROOT } from './run-cli';

jest.setTimeout(300_000);

const pod = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('mk control-plane --metrics-port', () => {
  let server: NatsServer;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let bus: Bus | undefined;
  let stderr = '';

  beforeAll(async () => {
    ensureBuilt();
    server = await startNatsServer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cp-metrics-'));
    writeContext(dataDir, { servers: [server.url], nodeName: 'n1' });
  });

  afterAll(async () => {
    await bus?.close();
    if (child?.pid) await terminate(child.pid, 15_000);
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the control plane\'s metrics, and mk_nats_connected follows the server', async () => {
    child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane', '--data-dir', dataDir, '--metrics-port', '0'], {
      cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MK_LOG_LEVEL: 'warn' },
    });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const url = await until('the control plane to say where its metrics are', () => /metrics on (http:\S+)/.exec(stderr)?.[1], 60_000);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    bus = await connectBus({ servers: server.url, name: 'metrics-test-client' });
    // The api answers once the control plane leads.
    await until('the api to take a pod', async () => (await request(bus!, API.apply, { object: pod('m1') })) ?? undefined, 60_000);
    await request(bus, API.apply, { object: pod('m2') });
    await request<GetResult>(bus, API.get, { kind: 'pods', name: 'm1' });
    await request<GetResult>(bus, API.get, { kind: 'pods', name: 'm2' });
    await expect(request(bus, API.get, { kind: 'pods', name: 'none' })).rejects.toThrow(/not found/);

    const fams = await waitFor('the scheduler to have tried the pods', async () => {
      const f = await scrape(url);
      return sumOf(f, 'mk_scheduler_attempts_total') >= 2 ? f : undefined;
    }, 60_000);
    expect(sumOf(fams, 'mk_api_requests_total', { verb: 'apply', kind: 'pods', code: 'OK' })).toBeGreaterThanOrEqual(2);
    expect(sumOf(fams, 'mk_api_requests_total', { verb: 'get', kind: 'pods', code: 'OK' })).toBe(2);
    expect(sumOf(fams, 'mk_api_requests_total', { verb: 'get', kind: 'pods', code: 'NotFound' })).toBe(1);
    expect(sumOf(fams, 'mk_api_request_duration_seconds_count', { verb: 'get', kind: 'pods' })).toBe(3);
    expect(samplesOf(fams, 'mk_api_request_duration_seconds_bucket', { verb: 'apply', kind: 'pods', le: '+Inf' })[0].value).toBeGreaterThanOrEqual(2);
    expect(fams.get('mk_api_request_duration_seconds')?.type).toBe('histogram');
    // No node: both pods are unschedulable.
    expect(sumOf(fams, 'mk_scheduler_attempts_total', { result: 'unschedulable' })).toBeGreaterThanOrEqual(2);
    expect(sumOf(fams, 'mk_scheduler_scheduling_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    // The control plane's informers saw the applies.
    expect(sumOf(fams, 'mk_watch_lag_seconds_count')).toBeGreaterThan(0);
    expect(sumOf(fams, 'mk_nats_connected', { connection: 'mk-control-plane' })).toBe(1);
    expect(sumOf(fams, 'mk_process_info', { role: 'control-plane' })).toBe(1);
    expect(sumOf(fams, 'mk_process_resident_memory_bytes')).toBeGreaterThan(0);

    server.kill();
    await waitFor('mk_nats_connected 0 after the server died', async () =>
      sumOf(await scrape(url), 'mk_nats_connected', { connection: 'mk-control-plane' }) === 0, 30_000);
    await server.restart();
    const back = await waitFor('mk_nats_connected 1 after the server came back', async () => {
      const f = await scrape(url);
      return sumOf(f, 'mk_nats_connected', { connection: 'mk-control-plane' }) === 1 ? f : undefined;
    }, 60_000);
    expect(sumOf(back, 'mk_nats_reconnects_total', { connection: 'mk-control-plane' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(back, 'mk_nats_disconnects_total', { connection: 'mk-control-plane' })).toBeGreaterThanOrEqual(1);
  });
});
