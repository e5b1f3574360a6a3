/**
 * `npm run bench -- probes [--pods 1000] [--seconds 30] [--rounds 3] [--periods 10,1]`: what the
 * node agent's probes cost the agent. A child process runs the agent's own prober
 * (node-agent/pods/prober.ts) and probe runner (probe-run.ts) for N pods of one container each,
 * with a liveness and a readiness probe: httpGet for even pods against a small HTTP server, and
 * tcpSocket for odd ones against a listener, both in another process on loopback (what a pod
 * serves is not the agent's cost). The baseline is the same child with the same containers and no
 * probes. Each half waits for a quiet CPU, lets one period pass, then takes the child's CPU seconds
 * per wall second (/proc/<pid>/stat) over the window and its resident memory at the end. Halves
 * alternate, the order flipped each round. Exec probes are left out: they need CRI (ExecSync in a
 * real container), which this benchmark does not start. No root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import readline from 'node:readline';
import type { Container } from '../../messages/pod';
import type { Probe } from '../../messages/probe';
import { PodProber } from '../../node-agent/pods/prober';
import { runProbe } from '../../node-agent/pods/probe-run';
import { intFlag } from './flags';
import { formatProbes, type ProbesHalf, type ProbesPeriodRun, type ProbesRun } from './probes-report';
import { waitForQuietCpu } from './quiet';
import { procCpuTicks, procStatusKb } from './scheduling-report';

/** CPU clock ticks per second (USER_HZ): 100 on Linux. */
const TICKS = 100;

/** `probe-targets` (internal): an HTTP server answering 200 and a TCP listener; prints `ports <http> <tcp>`, runs until SIGTERM. */
export async function probeTargets(): Promise<void> {
  const web = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok\n'); });
  const tcp = net.createServer((s) => { s.on('error', () => undefined); s.end(); });
  const listen = (srv: net.Server) => new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', 4096, () => resolve((srv.address() as net.AddressInfo).port)));
  const [hp, tp] = [await listen(web), await listen(tcp)];
  console.log(`ports ${hp} ${tp}`);
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  web.close();
  tcp.close();
}

/** The container of pod `i`: liveness and readiness probes (when `probes`), httpGet for even `i`, tcpSocket for odd. */
export function probedContainer(i: number, probes: boolean, periodSeconds: number, ports: { http: number; tcp: number }): Container {
  const handler: Pick<Probe, 'httpGet' | 'tcpSocket'> = i % 2 === 0
    ? { httpGet: { path: '/healthz', port: ports.http, host: '127.0.0.1' } }
    : { tcpSocket: { port: ports.tcp, host: '127.0.0.1' } };
  const probe = { ...handler, periodSeconds, timeoutSeconds: 1 } as Probe;
  return { name: 'main', image: 'busybox', ...(probes ? { livenessProbe: probe, readinessProbe: probe } : {}) } as Container;
}

/**
 * `probes-child` (internal): N pod probers, with or without probes; prints `ready`, then answers
 * each `count` line on stdin with `count <probes> <failures>`; exits on SIGTERM.
 */
export async function probesChild(argv: string[], usage: string): Promise<void> {
  const pods = intFlag(argv, '--pods', 1000, usage);
  const period = intFlag(argv, '--period', 10, usage);
  const ports = { http: intFlag(argv, '--http-port', 1, usage), tcp: intFlag(argv, '--tcp-port', 1, usage) };
  const on = argv.includes('--on');
  let probes = 0;
  let failures = 0;
  // The agent has no exec without CRI here; no exec probe is made, so this is never called.
  const noExec = { execSync: () => Promise.reject(new Error('no CRI in this benchmark')) };
  const now = Date.now();
  const probers = Array.from({ length: pods }, (_, i) => {
    const p = new PodProber({
      run: async (t) => { const r = await runProbe(noExec, t); probes++; if (r.outcome === 'failure') failures++; return r; },
      onChange: () => undefined, onKill: () => undefined, event: () => undefined, now: () => Date.now(),
    });
    // Started at different moments over one period, as a node's pods are.
    p.update([{ id: `c-${i}`, spec: probedContainer(i, on, period, ports), startedAtMs: now + Math.random() * period * 1000 }], '127.0.0.1');
    return p;
  });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', () => { console.log(`count ${probes} ${failures}`); });
  console.log('ready');
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); rl.once('close', () => resolve()); });
  for (const p of probers) p.stop();
  rl.close();
}

/** Stops `child` by pid (SIGTERM, SIGKILL after 5 s); resolves once it exited. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Spawns `run.js <args>`; resolves with the child and a reader of its stdout lines. */
function spawnRun(runJs: string, args: string[]): { child: ChildProcess; next: (prefix: string, ms: number) => Promise<string> } {
  const child = spawn(process.execPath, [runJs, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l); for (const w of waiters.splice(0)) w(); });
  const next = async (prefix: string, ms: number): Promise<string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0];
      if (child.exitCode !== null) throw new Error(`${args[0]} exited (${child.exitCode}) before printing "${prefix}"`);
      if (Date.now() > deadline) throw new Error(`${args[0]} printed no "${prefix}" within ${ms} ms`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
    }
  };
  return { child, next };
}

const cpuSeconds = (pid: number) => procCpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / TICKS;

/** One half: a fresh child with probes on or off, measured over `seconds` after one period. */
async function half(runJs: string, on: boolean, pods: number, period: number, seconds: number, ports: { http: number; tcp: number }): Promise<ProbesHalf> {
  const busyBefore = (await waitForQuietCpu({ deadlineMs: 30_000 })).busy;
  const { child, next } = spawnRun(runJs, ['probes-child', '--pods', String(pods), '--period', String(period),
    '--http-port', String(ports.http), '--tcp-port', String(ports.tcp), ...(on ? ['--on'] : [])]);
  try {
    await next('ready', 60_000);
    await new Promise((r) => setTimeout(r, Math.max(2, period) * 1000));
    const count = async () => { child.stdin!.write('count\n'); return (await next('count ', 10_000)).split(' ').slice(1).map(Number); };
    const [p0, f0] = await count();
    const c0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c1 = cpuSeconds(child.pid!);
    const wall = (performance.now() - t0) / 1000;
    const rssKb = procStatusKb(fs.readFileSync(`/proc/${child.pid!}/status`, 'utf8'), 'VmRSS');
    const [p1, f1] = await count();
    return { cpu: (c1 - c0) / wall, rssKb, probes: p1 - p0, failures: f1 - f0, busyBefore };
  } finally {
    await stop(child);
  }
}

/** Runs the benchmark, prints the table and one JSON line. */
export async function probesBench(argv: string[], runJs: string, usage: string): Promise<ProbesRun> {
  const pods = intFlag(argv, '--pods', 1000, usage);
  const seconds = intFlag(argv, '--seconds', 30, usage);
  const rounds = intFlag(argv, '--rounds', 3, usage);
  const i = argv.indexOf('--periods');
  const periods = (i >= 0 ? argv[i + 1] ?? '' : '10,1').split(',').map(Number);
  if (periods.some((p) => !Number.isInteger(p) || p < 1)) throw new Error(`--periods takes positive integers separated by commas (got ${argv[i + 1] ?? 'nothing'})\n${usage}`);
  const say = (l: string) => console.error(l);
  const targets = spawnRun(runJs, ['probe-targets']);
  const run: ProbesRun = { pods, seconds, probesPerPod: 2, periods: [] };
  try {
    const [, h, t] = (await targets.next('ports ', 30_000)).split(' ');
    const ports = { http: Number(h), tcp: Number(t) };
    for (const period of periods) {
      const pr: ProbesPeriodRun = { periodSeconds: period, rounds: [] };
      for (let r = 0; r < rounds; r++) {
        const first = r % 2 === 0 ? 'off' : 'on';
        const res: Partial<Record<'on' | 'off', ProbesHalf>> = {};
        for (const mode of first === 'off' ? ['off', 'on'] as const : ['on', 'off'] as const) {
          res[mode] = await half(runJs, mode === 'on', pods, period, seconds, ports);
        }
        pr.rounds.push({ first, on: res.on!, off: res.off! });
        say(`period ${period} s, round ${r + 1}: probes on ${(res.on!.cpu * 100).toFixed(2)} % of a core (${res.on!.probes} probes, ${res.on!.failures} failed), `
          + `off ${(res.off!.cpu * 100).toFixed(2)} %; RSS ${Math.round(res.on!.rssKb / 1024)} / ${Math.round(res.off!.rssKb / 1024)} MB`);
      }
      run.periods.push(pr);
    }
  } finally {
    await stop(targets.child);
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const line of formatProbes(run)) console.log(line);
  console.log(JSON.stringify(run));
  return run;
}
