/**
 * `npm run bench -- failover [--rounds R] [--lease-seconds S] [--replicas N] [--nodes N] [--rate P]
 * [--isolate]`: how long pods go unbound when the leading control plane dies. A nats-server on
 * loopback, N `mk control-plane` processes electing a leader on a short lease, hollow nodes
 * (hollow-node.ts) and a client applying pods at a steady rate; then rounds, SIGKILL and SIGTERM
 * alternating: the leader (found from the lease's holder-process annotation) is signalled, and the
 * store's own history tells when another control plane took the lease and when it bound its first
 * pod. The ended one is started again as a standby before the next round, so who leads changes
 * every round. With --isolate (root) every control plane runs in a pid namespace of its own, so no
 * standby can see that the holder's process is gone and a SIGKILLed leader's lease must expire, as
 * across machines. No timing is asserted: it is printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOLDER_PROCESS_ANNOTATION } from '../../actors/leadership';
import { connectBus, leaseTiming, ObjectStore, request, type Bus, type WatchEvent } from '../../bus';
import { API, CONTROL_PLANE_LEASE, LEASE_NAMESPACE, objectKey, type Lease, type Pod } from '../../messages';
import { startNatsServer, type NatsServer } from '../helpers/nats-server';
import { BIN } from './control-plane-env';
import { formatFailover, measureGap, steadyLongest, type Fault, type FailoverRound, type FailoverRun, type ObservedWrite } from './failover-report';
import { startHollow, stopHollow } from './scheduling';

const USER = 'admin';
const PASS = 'bench';
const LEASE_KEY = objectKey('leases', LEASE_NAMESPACE, CONTROL_PLANE_LEASE);
/** Pods flow this long, with a leader binding them, before each fault. */
const STEADY_MS = 3_000;

/** Options of the benchmark (flags). */
export interface FailoverOptions {
  rounds: number;
  leaseSeconds: number;
  replicas: number;
  nodes: number;
  podsPerSecond: number;
  isolate: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` returns a value; throws naming `what` after `ms`. */
async function until<T>(what: string, cond: () => T | undefined | Promise<T | undefined>, ms: number, everyMs = 50): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await cond();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** `<pid namespace>/<start time>` of a process, as the lease's holder-process annotation names it. */
function processKey(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${fs.readlinkSync(`/proc/${pid}/ns/pid`)}/${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

/** The same key from an annotation `<boot id>/<pid namespace>/<pid>/<start time>`. */
function annotationKey(tag: string | undefined): string | undefined {
  const p = tag?.split('/');
  return p && p.length === 4 ? `${p[1]}/${p[3]}` : undefined;
}

/** One control plane replica: a label that outlives restarts, and its current process. */
class Replica {
  private child?: ChildProcess;
  /** The control plane's own pid (under --isolate, the child of `unshare`). */
  pid = -1;
  key?: string;
  private out = '';
  private exit?: Promise<void>;

  constructor(readonly label: string, private readonly dir: string, private readonly args: string[], private readonly isolate: boolean) {}

  /** The end of its log (pino lines and stderr), for an error message. */
  tail(chars = 2_000): string { return this.out.slice(-chars); }

  running(): boolean { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null; }

  /** Starts the process and resolves once it campaigns. Throws with its output otherwise. */
  async start(): Promise<void> {
    const cmd = [process.execPath, BIN, 'control-plane', '--data-dir', this.dir, ...this.args];
    const [file, ...argv] = this.isolate ? ['unshare', '--pid', '--fork', '--kill-child', '--', ...cmd] : cmd;
    this.pid = -1;
    this.key = undefined;
    const child = spawn(file, argv, { env: { ...process.env, MK_HOME: this.dir, MK_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.out = '';
    const keep = (b: Buffer) => { this.out = (this.out + b.toString()).slice(-20_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    await until(`${this.label} to campaign for the lease`, () => {
      if (!this.running()) throw new Error(`${this.label} exited:\n${this.out}`);
      return this.out.includes('campaigning for the lease') ? true : undefined;
    }, 30_000);
    const pid = this.isolate ? Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) : child.pid;
    if (pid === undefined || !Number.isInteger(pid) || pid < 1) {
      await this.stop();
      throw new Error(`${this.label}: no pid for the control plane`);
    }
    this.pid = pid;
    this.key = processKey(pid);
  }

  /**
   * Sends `sig` to the control plane itself (not to `unshare`); before its pid is known, to the
   * spawned process (`unshare --kill-child` takes the control plane with it). Never to a pid < 1.
   */
  signal(sig: NodeJS.Signals): void {
    const target = this.pid > 0 ? this.pid : this.child?.pid;
    if (target === undefined || !Number.isInteger(target) || target < 1) return;
    try { process.kill(target, sig); } catch { /* already gone */ }
  }

  /** Resolves once the process (and `unshare` around it) exited; SIGKILL after `ms`. */
  async exited(ms = 15_000): Promise<void> {
    if (!this.running()) return;
    const t = setTimeout(() => this.signal('SIGKILL'), ms);
    await this.exit;
    clearTimeout(t);
  }

  /** SIGTERM, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.running()) return;
    this.signal('SIGTERM');
    await this.exited(10_000);
  }
}

/** The benchmark pod: small requests, so a hollow node takes 110. */
function pod(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'failover' } },
    spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

/** Applies a pod every 1/rate s until stopped; an apply with no answer is counted and sent again. */
class Load {
  applied = 0;
  failed = 0;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private loop?: Promise<void>;

  constructor(private readonly bus: Bus, private readonly perSecond: number) {}

  start(): void {
    this.loop = (async () => {
      const every = 1000 / this.perSecond;
      const t0 = performance.now();
      for (let i = 0; !this.stopped; i++) {
        const p = this.apply(`fo-${i}`);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
        await sleep(Math.max(0, t0 + (i + 1) * every - performance.now()));
      }
    })();
  }

  private async apply(name: string): Promise<void> {
    for (let attempt = 0; attempt < 30 && !this.stopped; attempt++) {
      try {
        await request(this.bus, API.apply, { object: pod(name) }, { timeoutMs: 2_000 });
        this.applied++;
        return;
      } catch {
        this.failed++;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.inFlight]);
  }
}

/** Runs the benchmark; returns the run (printed by the caller). */
export async function failoverBench(o: FailoverOptions, say: (l: string) => void): Promise<FailoverRun> {
  const timing = leaseTiming(o.leaseSeconds);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bench-failover-'));
  let nats: NatsServer | undefined;
  let bus: Bus | undefined;
  let hollow: ChildProcess[] = [];
  let stopWatch: (() => Promise<void>) | undefined;
  const replicas: Replica[] = [];
  try {
    nats = await startNatsServer({ user: USER, pass: PASS });
    const connect = { servers: [nats.url], user: USER, pass: PASS };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...connect, nodeName: 'bench' }), { mode: 0o600 });
    bus = await connectBus({ ...connect, name: 'mk-bench-failover' });
    say(`starting ${o.replicas} control planes (lease ${o.leaseSeconds} s${o.isolate ? ', each in a pid namespace of its own' : ''}) ...`);
    for (let i = 1; i <= o.replicas; i++) {
      const r = new Replica(`cp-${i}`, dir, ['--lease-seconds', String(o.leaseSeconds)], o.isolate);
      replicas.push(r);
      await r.start();
    }
    const store = await ObjectStore.open(bus);
    const leaseNow = async () => (await store.get<Lease>(LEASE_KEY))?.object;
    const leaderOf = (l: Lease | undefined) => {
      const k = annotationKey(l?.metadata.annotations?.[HOLDER_PROCESS_ANNOTATION]);
      return l?.spec?.holderIdentity ? replicas.find((r) => r.running() && r.key === k) : undefined;
    };
    await until('a leader', async () => leaderOf(await leaseNow()), 60_000, 100);
    hollow = await startHollow({ connect }, o.nodes, say);

    // Every write from here on: lease writes and first bindings, as the store ordered them.
    const writes: ObservedWrite[] = [];
    const seenBound = new Set<string>();
    const from = (await store.list('>')).revision + 1;
    const w = await store.watch<Pod | Lease>('>', { fromRevision: from }, (ev: WatchEvent<Pod | Lease>) => {
      const at = performance.now();
      if (ev.key === LEASE_KEY && ev.object) writes.push({ at, revision: ev.revision, lease: { holder: (ev.object as Lease).spec?.holderIdentity } });
      if (!ev.key.startsWith('pods.') || !ev.object) return;
      const p = ev.object as Pod;
      if (p.spec.nodeName && !seenBound.has(ev.key)) {
        seenBound.add(ev.key);
        writes.push({ at, revision: ev.revision, bound: p.metadata.name });
      }
    });
    stopWatch = () => w.stop();

    const load = new Load(bus, o.podsPerSecond);
    const loadBefore = os.loadavg();
    load.start();
    const rounds: FailoverRound[] = [];
    for (let n = 1; n <= o.rounds * 2; n++) {
      const fault: Fault = n % 2 === 1 ? 'SIGKILL' : 'SIGTERM';
      for (const r of replicas) if (!r.running()) await r.start();
      const leader = await until('a leader', async () => leaderOf(await leaseNow()), o.leaseSeconds * 3000 + 30_000, 100);
      const steadyFrom = performance.now();
      await sleep(STEADY_MS);
      await until('pods bound by the leader', () => (writes.some((x) => x.bound && x.at > steadyFrom) ? true : undefined), 30_000);
      const holder = (await leaseNow())?.spec?.holderIdentity ?? '';
      const failedBefore = load.failed;
      const t0 = performance.now();
      leader.signal(fault);
      const steadyMs = steadyLongest(writes, steadyFrom, t0);
      const gap = await until(`a pod bound after the ${fault} of ${leader.label}`, () => {
        const g = measureGap(t0, holder, writes);
        return g.boundMs !== undefined ? g : undefined;
      }, o.leaseSeconds * 3000 + 30_000).catch(async (err: unknown) => {
        const logs = replicas.map((r) => `--- ${r.label} (pid ${r.pid}${r.running() ? '' : ', exited'}):\n${r.tail()}`).join('\n');
        throw new Error(`${String(err)}; the lease now: ${JSON.stringify((await leaseNow())?.spec)}\n${logs}`);
      });
      const successor = leaderOf(await leaseNow())?.label ?? '?';
      const round: FailoverRound = {
        round: n, fault, leader: leader.label, successor,
        leaseMs: Math.round(gap.leaseMs! * 10) / 10, boundMs: Math.round(gap.boundMs! * 10) / 10,
        steadyMs: Math.round(steadyMs * 10) / 10, failedApplies: load.failed - failedBefore,
      };
      rounds.push(round);
      say(`  round ${n}: ${fault} ${leader.label} -> ${successor} took the lease after ${(round.leaseMs / 1000).toFixed(2)} s, bound a pod after ${(round.boundMs / 1000).toFixed(2)} s`);
      await leader.exited();
    }
    await load.stop();
    const loadAfter = os.loadavg();
    return {
      leaseSeconds: o.leaseSeconds, renewDeadlineMs: timing.renewDeadlineMs, retryPeriodMs: timing.retryPeriodMs,
      replicas: o.replicas, nodes: o.nodes, podsPerSecond: o.podsPerSecond, isolated: o.isolate,
      rounds, loadBefore, loadAfter, applied: load.applied, bound: seenBound.size,
    };
  } finally {
    await stopWatch?.().catch(() => undefined);
    await stopHollow(hollow);
    for (const r of replicas) await r.stop();
    await bus?.close().catch(() => undefined);
    await nats?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the report and one JSON line. */
export async function runFailoverBench(o: FailoverOptions): Promise<void> {
  if (o.replicas < 2) throw new Error(`--replicas must be at least 2: a failover needs a standby (got ${o.replicas})`);
  if (o.isolate && process.getuid?.() !== 0) throw new Error('--isolate runs each control plane in a pid namespace of its own: run as root');
  const run = await failoverBench(o, (l) => console.error(l));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs`);
  for (const line of formatFailover(run)) console.log(line);
  console.log(JSON.stringify(run));
}
