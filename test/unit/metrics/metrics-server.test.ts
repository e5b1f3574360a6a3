import * as http from 'node:http';
import { Registry } from 'prom-client';
import { hasPromtool, parsePromText, promtoolCheck, samplesOf, sumOf } from '../../helpers/prom-text';
import { counter, histogram, LATENCY_BUCKETS, register, secondsBuckets, startProcessMetrics } from '../../../common/metrics/registry';
import { startMetricsServer, type MetricsServer } from '../../../common/metrics/server';

/** A request to the server; resolves with the status, headers and body. */
function fetchRaw(url: string, method = 'GET'): Promise<{ status: number; type?: string; allow?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], allow: res.headers.allow as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('secondsBuckets', () => {
  it('spans 0.5 ms to 10 s on the 1-2.5-5 scale by default', () => {
    expect(LATENCY_BUCKETS).toEqual([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });
  it('takes other ranges and refuses empty ones', () => {
    expect(secondsBuckets(0.1, 600)).toEqual([0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500]);
    expect(() => secondsBuckets(0, 1)).toThrow(/0 < min <= max/);
    expect(() => secondsBuckets(2, 1)).toThrow(RangeError);
  });
});

describe('registry helpers', () => {
  it('return the metric already registered under a name instead of throwing', () => {
    const a = counter({ name: 'mk_test_things_total', help: 'things' });
    const b = counter({ name: 'mk_test_things_total', help: 'things' });
    expect(b).toBe(a);
    expect(() => histogram({ name: 'mk_test_things_total', help: 'x' })).toThrow(/another type/);
  });
});

describe('metrics server', () => {
  let server: MetricsServer;
  afterEach(async () => { await server?.close(); });

  it('serves the default registry on GET /metrics, with a port picked when asked for 0', async () => {
    startProcessMetrics('control-plane', 'test');
    const h = histogram({ name: 'mk_test_wait_seconds', help: 'a test\'s "wait"\nand a backslash \\', labelNames: ['verb'] as const, buckets: LATENCY_BUCKETS as number[] });
    h.observe({ verb: 'get' }, 0.003);
    h.observe({ verb: 'get' }, 7);
    h.observe({ verb: 'we"ird\\\n' }, 0.0001);
    server = await startMetricsServer({ port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const res = await fetchRaw(server.url);
    expect(res.status).toBe(200);
    expect(res.type).toBe(register.contentType);
    const fams = parsePromText(res.body);
    expect(fams.get('mk_test_wait_seconds')?.type).toBe('histogram');
    expect(sumOf(fams, 'mk_test_wait_seconds_count', { verb: 'get' })).toBe(2);
    expect(samplesOf(fams, 'mk_test_wait_seconds_bucket', { verb: 'get', le: '0.005' })[0].value).toBe(1);
    expect(samplesOf(fams, 'mk_test_wait_seconds_bucket', { verb: 'we"ird\\\n', le: '0.0005' })[0].value).toBe(1);
    expect(sumOf(fams, 'mk_process_info', { role: 'control-plane', name: 'test' })).toBe(1);
    // The process metrics, with mk's prefix.
    for (const name of ['mk_process_cpu_seconds_total', 'mk_process_resident_memory_bytes', 'mk_nodejs_eventloop_lag_seconds']) {
      expect(fams.has(name)).toBe(true);
    }
    if (hasPromtool()) expect(promtoolCheck(res.body)).toBe('');
  });

  it('answers 404 elsewhere and 405 to other methods; HEAD has no body', async () => {
    server = await startMetricsServer({ port: 0, registry: new Registry() });
    expect((await fetchRaw(server.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetchRaw(server.url.replace('/metrics', '/metricsx'))).status).toBe(404);
    const post = await fetchRaw(server.url, 'POST');
    expect(post.status).toBe(405);
    expect(post.allow).toBe('GET, HEAD');
    const head = await fetchRaw(server.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await fetchRaw(`${server.url}?x=1`)).status).toBe(200);
  });

  it('names the address when it cannot listen, and closes cleanly', async () => {
    server = await startMetricsServer({ port: 0 });
    await expect(startMetricsServer({ port: server.port })).rejects.toThrow(`cannot serve metrics on 127.0.0.1:${server.port}`);
    await server.close();
    await server.close();
    await expect(fetchRaw(server.url)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('parsePromText', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n';
  it('accepts a well-formed exposition', () => {
    expect(parsePromText(ok).get('a_total')?.samples).toEqual([{ name: 'a_total', labels: { x: '1' }, value: 3 }]);
  });
  it.each([
    ['no final newline', ok.trimEnd()],
    ['a duplicate series', `${ok}a_total{x="1"} 4\n`],
    ['a second HELP', `# HELP a A.\n# HELP a B.\na 1\n`],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['an unknown type', '# TYPE a meter\na 1\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['a bad value', 'a 1,5\n'],
    ['split families', 'a 1\nb 1\na{x="2"} 1\n'],
    ['a bucket count that falls', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf unlike _count', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['a histogram without _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePromText(text)).toThrow();
  });
});
