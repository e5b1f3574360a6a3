/**
 * A real 3-server NATS cluster for integration tests: the members `mk up --nats-servers 3` runs
 * (embedded/nats-cluster.ts configs: routes on loopback, JetStream clustered), on free loopback
 * ports, in a temp directory of its own. Each member can be SIGKILLed and started again; every
 * process is stopped by its pid and the directory removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsUrls, writeNatsClusterFiles, type NatsMember } from '../../embedded/nats-cluster';
import { signal } from '../../embedded/processes';
import { checkServerName, readInfo } from './nats-server';

const BINARY = process.env.NATS_SERVER ?? 'nats-server';

/** A running test cluster. */
export interface NatsCluster {
  /** The client URL of every member. */
  urls: string[];
  members: NatsMember[];
  dir: string;
  /** The pid of member `i`, undefined while it is down. */
  pid(i: number): number | undefined;
  /** SIGKILLs member `i`, as a crash would (its store stays); resolves once it exited. */
  kill(i: number): Promise<void>;
  /** Starts member `i` again on its port and store; resolves once it accepts clients. */
  start(i: number): Promise<void>;
  /** Stops every member (SIGTERM, then SIGKILL) and removes the directory. */
  stop(): Promise<void>;
}

/**
 * Starts 3 members and resolves once JetStream answers on the cluster (a meta leader is elected).
 * With `only`, starts just those members (none for `[]`) and does not wait for JetStream: a fresh
 * cluster still forming, whose other members the test starts later with `start(i)`.
 */
export async function startNatsCluster(count = 3, opts: { only?: number[] } = {}): Promise<NatsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nats-cluster-'));
  const base = path.join(dir, 'nats.conf');
  fs.writeFileSync(base, 'max_payload: 8MB\n', { mode: 0o600 });
  const basePort = await freePortRun(count);
  const members = writeNatsClusterFiles(base, basePort, count);
  const procs: (ChildProcess | undefined)[] = [];
  const outputs: string[] = members.map(() => '');

  const launch = async (i: number): Promise<void> => {
    const m = members[i];
    const child = spawn(BINARY, ['-c', m.confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => { outputs[i] = (outputs[i] + b.toString()).slice(-8000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    procs[i] = child;
    const deadline = Date.now() + 15_000;
    // Its own INFO, by name: another test's server on the port means this member could not bind it.
    while (!(await answers(m.clientPort, m.name))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nats member ${m.name} did not start:\n${outputs[i]}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async (i: number, sig: NodeJS.Signals): Promise<void> => {
    const child = procs[i];
    procs[i] = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    signal(child.pid, sig);
    const late = setTimeout(() => { if (child.pid) signal(child.pid, 'SIGKILL'); }, 5_000);
    await exited;
    clearTimeout(late);
  };

  const cluster: NatsCluster = {
    urls: natsUrls(members),
    members,
    dir,
    pid: (i) => procs[i]?.pid,
    kill: (i) => down(i, 'SIGKILL'),
    start: (i) => launch(i),
    async stop() {
      await Promise.all(members.map((_, i) => down(i, 'SIGTERM')));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((_, i) => i).filter((i) => opts.only?.includes(i) ?? true).map(launch));
    if (!opts.only) await jetStreamReady(cluster.urls);
  } catch (err) {
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n${outputs.join('\n---\n')}`, { cause: err });
  }
  return cluster;
}

/** Waits until the cluster's JetStream answers account info (it has a meta leader). */
async function jetStreamReady(urls: string[], timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers: urls, name: 'nats-cluster-ready' });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`JetStream not ready on ${urls.join(',')}: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

async function answers(port: number, name: string): Promise<boolean> {
  let info: string;
  try {
    info = await readInfo(port);
  } catch {
    return false;
  }
  checkServerName(info, port, name);
  return true;
}

/** A first port such that it and the next `count - 1` (and their route ports, +2000) are free. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: count }, (_, i) => [base + i, base + i + 2000]).flat();
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no run of free ports found');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
