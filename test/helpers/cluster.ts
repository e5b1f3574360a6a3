/**
 * A whole mk cluster for end-to-end tests: `mk up` run inside a network namespace the test
 * creates (nats-server, control plane, node agent, containerd all live there), and the CLI run
 * in the same namespace. Everything is removed afterwards: processes by pid, mounts, the
 * namespace, the data directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNetns, runInNetns } from './netns';
import type { RunResult } from './run';

export { waitFor } from './wait';


export interface TestCluster {
  dataDir: string;
  netns: string;
  /** Runs `mk ARGS` (the built CLI) inside the cluster's namespace with its data dir. */
  mk(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Starts `mk ARGS` inside the namespace without waiting (for `-w` and `-f`); stop it with a signal. */
  spawnMk(args: string[]): ChildProcess;
  /** Runs any command inside the namespace. */
  run(cmd: string[]): Promise<RunResult>;
  /** The pid of a cluster process by its command-line marker (`control-plane`, `node-agent`, `containerd`, `nats-server`). */
  pidOf(marker: string): number | undefined;
  destroy(): Promise<void>;
  /** What `mk up` printed. */
  upStdout?: string;
}

// The repository root, from the sources (test/helpers) or the build (dist/test/helpers).
const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
const BIN = path.join(ROOT, 'bin', 'run.js');

/** True when this process can run the e2e suite: root, containerd and nsenter present. */
export function canRunE2e(): boolean {
  return process.getuid?.() === 0 && fs.existsSync('/usr/bin/containerd') && fs.existsSync('/usr/bin/nsenter');
}

function execIn(nsPath: string, cmd: string[], env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = 120_000): Promise<RunResult> {
  return runInNetns(nsPath, cmd, timeoutMs, { env, stdin });
}

/** Processes whose command line mentions `dataDir` (every process of this cluster does). */
export function clusterPids(dataDir: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(dataDir)) out.push({ pid: Number(d), cmd });
    } catch { /* gone */ }
  }
  return out;
}

/** Starts a cluster with `mk up --no-demo` (or with the demo when asked), plus `upArgs` and `env`. */
export async function startCluster(opts: { demo?: boolean; upArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<TestCluster> {
  const ns = await createNetns('mke2e');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-e2e-'));
  const env = { ...process.env, MK_HOME: dataDir, MK_LOG_LEVEL: 'debug', MK_DNS_UPSTREAM: 'none',
    // Tests that need a runtime image build it when a pod names it: no background builds on two cores.
    MK_WARM_RUNTIME_IMAGES: 'off', ...opts.env };
  const cluster: TestCluster = {
    dataDir,
    netns: ns.name,
    mk: (args, o) => execIn(ns.path, [process.execPath, BIN, ...args], env, o?.stdin, o?.timeoutMs),
    run: (cmd) => execIn(ns.path, cmd, env),
    spawnMk: (args) => spawn('nsenter', [`--net=${ns.path}`, '--', process.execPath, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    pidOf: (marker) => clusterPids(dataDir).find((p) => p.cmd.includes(marker))?.pid,
    async destroy() {
      await execIn(ns.path, [process.execPath, BIN, 'down'], env, undefined, 120_000).catch(() => undefined);
      for (const p of clusterPids(dataDir)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
      unmountUnder(dataDir);
      await ns.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const up = await cluster.mk(['up', ...(opts.demo ? [] : ['--no-demo']), '--timeout', '240', ...(opts.upArgs ?? [])], { timeoutMs: 300_000 });
  if (up.code !== 0) {
    const logs = ['up', 'control-plane', 'node-agent', 'nats'].map((n) => {
      const f = path.join(dataDir, 'logs', `${n}.log`);
      return fs.existsSync(f) ? `--- ${n}.log\n${fs.readFileSync(f, 'utf8').slice(-4000)}` : '';
    }).join('\n');
    await cluster.destroy();
    throw new Error(`mk up failed (${up.code}):\n${up.stdout}\n${up.stderr}\n${logs}`);
  }
  cluster.upStdout = up.stdout;
  return cluster;
}

/** Unmounts everything mounted under `dir`, deepest first (containerd leaves shm and rootfs mounts). */
export function unmountUnder(dir: string): void {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

