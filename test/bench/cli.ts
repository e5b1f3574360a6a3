/**
 * `npm run bench -- cli [--rounds N] [--pods N] [--compare BIN]...`: how long short `mk` commands take
 * from start to exit, against `node -e 0` (node starting and doing nothing) measured in the same
 * run; with `--compare`, also `mk get pods` of other builds (their bin/run.js), for a before and
 * after under the same load. A
 * nats-server (loopback, a port and store of its own) and the real control plane (`mk
 * control-plane`, serving the api from the store) make the cluster; N pods are applied (they stay
 * Pending: no node is needed to list them). Then each round runs every command once, in turn, so
 * that a busy machine slows all of them alike; a few rounds first warm the page cache. Prints
 * median, p90, min and max per command and the ratio of medians to `node -e 0`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNatsServer } from '../helpers/nats-server';
import { runCommand } from '../helpers/run';
import { until } from '../helpers/wait';
import { percentile } from './stats';

// The repository root, from the sources (test/bench) or the build (dist/test/bench).
const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
const BIN = path.join(ROOT, 'bin', 'run.js');
const WARMUP_ROUNDS = 3;

/** One measured command line. */
interface Case { label: string; argv: string[]; samples: number[] }

/** Runs `argv` with output discarded; resolves with its wall time in ms. Rejects on a non-zero exit. */
function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms); else reject(new Error(`${argv.slice(1).join(' ')} exited ${code ?? sig}`));
    });
  });
}

function podsManifest(n: number): string {
  return Array.from({ length: n }, (_, i) => [
    'apiVersion: v1', 'kind: Pod', `metadata: { name: bench-${i}, labels: { bench: cli } }`,
    'spec: { containers: [{ name: main, image: busybox, command: [sleep, "3600"] }] }',
  ].join('\n')).join('\n---\n') + '\n';
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Runs the benchmark and prints its table; throws when the cluster does not come up or a command fails. */
export async function cliBench(argv: string[]): Promise<void> {
  const flag = (f: string, d: string) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : d; };
  const rounds = Number(flag('--rounds', '20'));
  const pods = Number(flag('--pods', '5'));
  const compare = argv.flatMap((a, i) => (a === '--compare' && argv[i + 1] ? [path.resolve(argv[i + 1])] : []));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bench-cli-'));
  const env = { ...process.env, MK_HOME: dir, MK_LOG_LEVEL: 'warn' };
  const nats = await startNatsServer({ user: 'admin', pass: 'bench' });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [nats.url], user: 'admin', pass: 'bench', nodeName: 'bench' }), { mode: 0o600 });
  const cp = spawn(process.execPath, [BIN, 'control-plane', '--data-dir', dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let cpErr = '';
  cp.stderr?.on('data', (b: Buffer) => { cpErr = (cpErr + b.toString()).slice(-4000); });
  try {
    console.error(`control plane on ${nats.url}; applying ${pods} pods ...`);
    await until('the control plane to serve mk.api.list', async () => {
      if (cp.exitCode !== null) throw new Error(`the control plane exited (${cp.exitCode}): ${cpErr}`);
      return (await runCommand([process.execPath, BIN, 'get', 'namespaces'], { env })).code === 0 ? true : undefined;
    }, 60_000, 100);
    const manifest = path.join(dir, 'pods.yaml');
    fs.writeFileSync(manifest, podsManifest(pods));
    const applied = await runCommand([process.execPath, BIN, 'apply', '-f', manifest], { env });
    if (applied.code !== 0) throw new Error(`mk apply failed: ${applied.stderr}`);
    const listed = await runCommand([process.execPath, BIN, 'get', 'pods', '--no-headers'], { env });
    if (listed.stdout.trim().split('\n').length !== pods) throw new Error(`mk get pods listed:\n${listed.stdout}${listed.stderr}`);

    const cases: Case[] = [
      { label: 'node -e 0', argv: [process.execPath, '-e', '0'], samples: [] },
      { label: 'mk get pods', argv: [process.execPath, BIN, 'get', 'pods'], samples: [] },
      { label: 'mk get pods -o json', argv: [process.execPath, BIN, 'get', 'pods', '-o', 'json'], samples: [] },
      { label: 'mk describe pod bench-0', argv: [process.execPath, BIN, 'describe', 'pod', 'bench-0'], samples: [] },
      { label: 'mk --version', argv: [process.execPath, BIN, '--version'], samples: [] },
      { label: 'mk --help', argv: [process.execPath, BIN, '--help'], samples: [] },
      ...compare.flatMap((bin) => [
        { label: `${bin} get pods`, argv: [process.execPath, bin, 'get', 'pods'], samples: [] },
        { label: `${bin} get pods -o json`, argv: [process.execPath, bin, 'get', 'pods', '-o', 'json'], samples: [] },
        { label: `${bin} describe pod bench-0`, argv: [process.execPath, bin, 'describe', 'pod', 'bench-0'], samples: [] },
      ]),
    ];
    const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
    console.error(`${WARMUP_ROUNDS} warm-up rounds, then ${rounds} rounds of ${cases.length} commands; load average ${load()} ...`);
    for (let i = 0; i < WARMUP_ROUNDS + rounds; i++) {
      for (const c of cases) {
        const ms = await timed(c.argv, env);
        if (i >= WARMUP_ROUNDS) c.samples.push(ms);
      }
    }
    const base = percentile(cases[0].samples, 50);
    console.log(`${rounds} rounds, ${pods} pods, node ${process.version}, ${os.cpus().length} CPUs, load average after: ${load()}`);
    console.log('| command | median (ms) | p90 (ms) | min (ms) | max (ms) | median / node -e 0 |');
    console.log('|---|---|---|---|---|---|');
    for (const c of cases) {
      const med = percentile(c.samples, 50);
      const row = [med, percentile(c.samples, 90), Math.min(...c.samples), Math.max(...c.samples)].map(r1);
      console.log(`| \`${c.label}\` | ${row.join(' | ')} | ${(med / base).toFixed(2)}x |`);
    }
  } finally {
    if (cp.exitCode === null && cp.signalCode === null) {
      const exited = new Promise((resolve) => cp.once('exit', resolve));
      cp.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((resolve) => { timer = setTimeout(resolve, 10_000, 'late'); });
      if (await Promise.race([exited, late]) === 'late') { cp.kill('SIGKILL'); await exited; }
      clearTimeout(timer);
    }
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
