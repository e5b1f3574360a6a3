/**
 * `npm run bench -- ingress [--rounds R] [--seconds S] [--connections C]` (as root): HTTP
 * requests from a client host through the node's in-process ingress proxy (node-agent/ingress,
 * as `mk up` serves it on port 80 of the node) to a backend pod, against the same requests
 * straight to the pod's IP; keep-alive and a new connection per request, alternating over R
 * rounds. When Debian's nginx is installed, it is a second baseline with an equivalent
 * hand-written config (a reverse proxy to the same pod over kept-alive upstream connections), and
 * a third target is mk's own nginx mode (node-agent/ingress/nginx.ts: the config generated from
 * the route table, `--nginx-workers N|auto`, default 1); when it is not, both are left out and
 * said so.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Ingress } from '../../messages/ingress';
import { RouteTable, startIngressProxy, startNginxProxy } from '../../node-agent/ingress';
import { intFlag } from './flags';
import { formatLoad, type LoadRun } from './http-load-report';
import { cleanup, clientNs, NODE_IP, nodeNs, onCleanup, podNs, serviceOf, sliceOf, startIn, StaticSource } from './net-env';
import { alternate, BACKEND_SCRIPT, MODES } from './service';

const POD_IP = '10.244.1.11';
const INGRESS_PORT = 80;
const NGINX_PORT = 8081;
const MK_NGINX_PORT = 8082;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);

/** The Ingress the proxy serves: every host and path to service web, port 80. */
export const BENCH_INGRESS = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
} as unknown as Ingress;

/** An nginx config doing what the Ingress above asks, over kept-alive upstream connections. */
export function nginxConfig(dir: string, listen: string, upstream: string): string {
  return [
    'worker_processes 1;', 'daemon off;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'events { worker_connections 1024; }',
    'http {', '  access_log off;', `  client_body_temp_path ${dir}/body;`, `  proxy_temp_path ${dir}/proxy;`,
    `  upstream web { server ${upstream}; keepalive 64; }`,
    `  server { listen ${listen}; location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection "";`,
    '    proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Forwarded-Host $host; proxy_set_header X-Forwarded-Proto http; } }',
    '}', '',
  ].join('\n');
}

/** (internal) The ingress proxy, run in the node's namespace: `ingress-proxy-child HOST PORT POD_IP`. */
export async function ingressProxyChild(args: string[]): Promise<void> {
  const [host, port, podIp] = args;
  const source = new StaticSource();
  source.put(serviceOf('web', '10.96.0.10'), [sliceOf('web', [podIp])]);
  const proxy = await startIngressProxy({ source, port: Number(port), host });
  proxy.setRoutes(new RouteTable([BENCH_INGRESS]));
  console.log('ready');
  process.once('SIGTERM', () => { void proxy.stop().then(() => process.exit(0)); });
}

/** (internal) mk's nginx mode, run in the node's namespace: `ingress-nginx-child HOST PORT POD_IP DIR WORKERS`. */
export async function ingressNginxChild(args: string[]): Promise<void> {
  const [host, port, podIp, dir, workers] = args;
  const source = new StaticSource();
  source.put(serviceOf('web', '10.96.0.10'), [sliceOf('web', [podIp])]);
  const proxy = await startNginxProxy({ source, port: Number(port), host, dir, workers: workers === 'auto' ? 'auto' : Number(workers) });
  proxy.setRoutes(new RouteTable([BENCH_INGRESS]));
  await proxy.settled();
  console.log('ready');
  process.once('SIGTERM', () => { void proxy.stop().then(() => process.exit(0)); });
}

export async function ingressBench(args: string[], usage: string, runFile: string): Promise<void> {
  const rounds = intFlag(args, '--rounds', 5, usage);
  const seconds = intFlag(args, '--seconds', 5, usage);
  const conns = intFlag(args, '--connections', 8, usage);
  const wi = args.indexOf('--nginx-workers');
  const workers = wi >= 0 ? args[wi + 1] : '1';
  if (workers !== 'auto' && !/^[1-9]\d*$/.test(workers ?? '')) throw new Error(`--nginx-workers: "${workers}" is not a count or auto\n${usage}`);
  if (process.getuid?.() !== 0) throw new Error('ingress needs root (it creates network namespaces)');
  let tmp: string | undefined;
  try {
    console.error('making a node, a backend pod and a client in network namespaces ...');
    const node = await nodeNs();
    const pod = await podNs(node, 'web', POD_IP);
    const client = await clientNs(node);
    await startIn(pod, ['-e', BACKEND_SCRIPT]);
    await startIn(node, [runFile, 'ingress-proxy-child', NODE_IP, String(INGRESS_PORT), POD_IP]);
    const targets: [string, string][] = [['pod IP', `http://${POD_IP}:8080/`], ['ingress', `http://${NODE_IP}:${INGRESS_PORT}/`]];
    let nginxNote = 'nginx is not installed here: no nginx baseline.';
    if (NGINX) {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'mk-bench-nginx-'));
      const conf = path.join(tmp, 'nginx.conf');
      writeFileSync(conf, nginxConfig(tmp, `${NODE_IP}:${NGINX_PORT}`, `${POD_IP}:8080`));
      const dir = tmp;
      // nginx says nothing when it is up: a shell line prints `ready` once its port answers.
      await startIn(node, ['-e', `const { spawn } = require('child_process'); const net = require('net');
const n = spawn(${JSON.stringify(NGINX)}, ['-c', ${JSON.stringify(conf)}, '-p', ${JSON.stringify(dir)}], { stdio: 'inherit' });
process.on('SIGTERM', () => n.kill('SIGQUIT')); n.on('exit', (c) => process.exit(c ?? 1));
const tryIt = () => net.connect(${NGINX_PORT}, ${JSON.stringify(NODE_IP)}).on('connect', function () { this.end(); console.log('ready'); }).on('error', () => setTimeout(tryIt, 50));
tryIt();`]);
      targets.push(['nginx', `http://${NODE_IP}:${NGINX_PORT}/`]);
      const mkDir = path.join(tmp, 'mk');
      await startIn(node, [runFile, 'ingress-nginx-child', NODE_IP, String(MK_NGINX_PORT), POD_IP, mkDir, workers]);
      targets.push(['mk nginx', `http://${NODE_IP}:${MK_NGINX_PORT}/`]);
      nginxNote = `nginx (${NGINX}) with an equivalent hand-written config is a second baseline; "mk nginx" is mk's generated config, worker_processes ${workers}.`;
    }
    onCleanup(async () => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });
    const { samples, busyBefore } = await alternate(client, targets, rounds, conns, seconds);
    const run: LoadRun = {
      title: `HTTP GET from a client host to one pod (Node.js server, 2-byte body) through the node's ingress proxy, ${conns} connections, ${seconds} s per target`,
      targets: targets.map(([t]) => t), modes: MODES, samples, busyBefore,
    };
    for (const line of formatLoad(run)) console.log(line);
    console.log(nginxNote);
    console.log(JSON.stringify(run));
  } finally {
    await cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
