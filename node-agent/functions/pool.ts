/**
 * The node's warm pool of generic function runtime containers: per runtime, a few sandboxes (with
 * the pod network) each running the runtime image's loader with no code (it listens, /healthz says
 * not ready, it waits for /init), made in advance through CRI once the runtime image is on the
 * node (this pool never builds one). A cold start of an eligible function instance pod takes one
 * (pool-policy.ts), makes its code visible at the member's /code (a read-only bind of a per-member
 * directory, filled with hard links to the unpacked code), records the adoption (adoptions.ts)
 * and POSTs /init with the pod's handler or command and environment; the pool refills at once.
 * A miss leaves the pod to the normal path. The pool grows by one per recent cold start (bounded)
 * and shrinks back when idle.
 *
 * After an agent restart `start` keeps the members that still answer, removes the others, removes
 * records and directories whose sandbox is gone, and stops the container of an adoption killed
 * before its /init, so its pod restarts it the normal way.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { counter, gauge, histogram } from '../../common/metrics';
import { isNotFound } from '../../messages/errors';
import { RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import type { Pod } from '../../messages/pod';
import type { CriClient } from '../cri/client';
import { FUNCTION_RUNTIMES, LOADER_PORT, CODE_DIR, type FunctionRuntime } from '../images/runtime-images';
import { buildContainerConfig, buildSandboxConfig, containerResources, containerSpecHash, podLogDirectory, type SandboxOptions } from '../pods/cri-spec';
import type { WarmAdoptInput, WarmAdoption, WarmPool } from '../pods/types';
import { AdoptionStore, LABEL_FUNCTION_POOL, LABEL_POOL_MEMBER, POOL_NAMESPACE, type AdoptionRecord } from './adoptions';
import { poolEligibility, poolTarget, type Eligibility } from './pool-policy';

/** Pool hits and misses of eligible cold starts, by runtime. */
export const poolStarts = counter({
  name: 'mk_function_pool_total',
  help: 'Cold starts of eligible function instance pods, by runtime and result: hit (a warm container of the pool taken) or miss (the normal path).',
  labelNames: ['runtime', 'result'] as const,
});

/** Members of the pool, by runtime and state (starting, ready). */
export const poolMembers = gauge({
  name: 'mk_function_pool_members',
  help: 'Warm generic runtime containers held by the node, by runtime and state (starting: being made; ready: may be taken).',
  labelNames: ['runtime', 'state'] as const,
});

/** From taking a warm container to the pod's Ready status written, by runtime. */
export const poolReadySeconds = histogram({
  name: 'mk_function_pool_ready_seconds',
  help: 'Seconds from a pod taking a warm container of the pool to its Ready status being written (code linked, adoption recorded, /init, readiness probe), by runtime.',
  labelNames: ['runtime'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
});

/** The CRI calls the pool makes. */
export type PoolRuntime = Pick<CriClient,
  | 'runPodSandbox' | 'stopPodSandbox' | 'removePodSandbox' | 'podSandboxStatus' | 'listPodSandbox' | 'createContainer' | 'startContainer'
  | 'stopContainer' | 'listContainers' | 'imageStatus' | 'updateContainerResources'>;

/** What the pool needs. */
export interface FunctionPoolOptions {
  /** The runtime itself (not the adoption overlay: the pool sees its members). */
  cri: PoolRuntime;
  store: AdoptionStore;
  /** `<node data dir>/function-pool`: members' code directories under `members/`. */
  root: string;
  /** Base size per runtime (pool-policy.ts parsePoolSize); 0: no pool. */
  size: number;
  /** The sandbox options of the node's pods (read when a member is made: the DNS comes with the pod CIDR). */
  sandbox: () => SandboxOptions;
  /** Whether members can be made yet (the node has its pod network); default always. */
  canStart?: () => boolean;
  /** Seccomp profiles' root, as for pods. */
  seccompProfileRoot?: string;
  log: Logger;
  /** Between looks at the pool's size (default 2 s). */
  refillMs?: number;
  now?: () => number;
  /** The runtimes kept warm (default both). */
  runtimes?: readonly FunctionRuntime[];
  /** The loader's port (default 8080). */
  port?: number;
}

type MemberState = 'starting' | 'ready';

interface Member {
  name: string;
  runtime: FunctionRuntime;
  state: MemberState;
  sandboxId?: string;
  containerId?: string;
  ip?: string;
  logDir?: string;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const MEMBERS_DIR = 'members';
const CONTAINER_NAME = 'function';
/** How long a new member's loader has to answer /healthz. */
const LISTEN_TIMEOUT_MS = 15_000;
/** How long /init may take (loading the code). */
const INIT_TIMEOUT_MS = 60_000;

/** The node's warm pool; see the module comment. */
export class FunctionPool implements WarmPool {
  private readonly members = new Map<string, Member>();
  private readonly coldStarts = new Map<FunctionRuntime, number[]>();
  private readonly imagePresent = new Set<FunctionRuntime>();
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: FunctionPoolOptions) {}

  private get runtimes(): readonly FunctionRuntime[] { return this.opts.runtimes ?? FUNCTION_RUNTIMES; }
  private now(): number { return (this.opts.now ?? Date.now)(); }
  private get port(): number { return this.opts.port ?? LOADER_PORT; }
  private memberDir(name: string): string { return path.join(this.opts.root, MEMBERS_DIR, name); }

  /**
   * Recovers what an earlier agent left (see the module comment), then keeps the pool filled in
   * the background. Records must be loaded (store.load) before. Throws only on I/O errors of the
   * pool's own directory.
   */
  async start(): Promise<void> {
    await mkdir(path.join(this.opts.root, MEMBERS_DIR), { recursive: true, mode: 0o755 });
    await this.recover();
    this.tick();
  }

  /** Stops refilling; members stay for the next agent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Removes every unadopted member and the pool's directory (the node is torn down). */
  async teardown(): Promise<void> {
    this.stop();
    await this.filling?.catch(() => undefined);
    for (const m of [...this.members.values()]) await this.destroy(m);
    await rm(this.opts.root, { recursive: true, force: true });
  }

  /** The members now, for tests and diagnostics. */
  list(): { name: string; runtime: string; state: MemberState; sandboxId?: string; containerId?: string }[] {
    return [...this.members.values()].map((m) => ({
      name: m.name, runtime: m.runtime, state: m.state,
      ...(m.sandboxId ? { sandboxId: m.sandboxId } : {}), ...(m.containerId ? { containerId: m.containerId } : {}),
    }));
  }

  eligibility(pod: Pod): Eligibility {
    const e = poolEligibility(pod);
    if ('runtime' in e && !this.runtimes.includes(e.runtime)) return { reason: `no warm pool of ${e.runtime}` };
    return e;
  }

  has(runtime: string): boolean {
    return this.opts.size > 0 && [...this.members.values()].some((m) => m.runtime === runtime && m.state === 'ready');
  }

  missed(runtime: string): void {
    this.coldStart(runtime as FunctionRuntime);
    poolStarts.inc({ runtime, result: 'miss' });
    this.nudge();
  }

  async adopt(pod: Pod, runtime: string, input: WarmAdoptInput): Promise<WarmAdoption | undefined> {
    const rt = runtime as FunctionRuntime;
    // Taken before any await: two pods never get the same member.
    const m = [...this.members.values()].find((x) => x.runtime === rt && x.state === 'ready');
    if (!m?.sandboxId || !m.containerId || !m.ip) {
      this.missed(rt);
      return undefined;
    }
    this.coldStart(rt);
    this.members.delete(m.name);
    this.gauge();
    this.nudge();
    const started = this.now();
    const spec = pod.spec.containers[0];
    const record: AdoptionRecord = {
      sandboxId: m.sandboxId, containerId: m.containerId, member: m.name, runtime: rt,
      podUid: pod.metadata.uid ?? '', podName: pod.metadata.name, podNamespace: pod.metadata.namespace ?? 'default',
      containerName: spec.name, image: spec.image, specHash: containerSpecHash(spec), adoptedAt: started, initDone: false,
      ...(m.logDir ? { logDir: m.logDir } : {}),
    };
    try {
      await linkTree(input.codeDir, this.memberDir(m.name));
      // The member was made without limits: the pod's requests and limits become its cgroup's.
      if (spec.resources && Object.keys(spec.resources).length > 0) {
        await this.opts.cri.updateContainerResources({ containerId: m.containerId, linux: containerResources(spec) });
      }
      await this.opts.store.put(record);
    } catch (err) {
      // Nothing reports the pod yet: the member goes, the pod takes the normal path.
      this.opts.log.warn({ member: m.name, err: messageOf(err) }, 'could not hand a warm container to a pod; removing it');
      await this.opts.store.remove(m.sandboxId).catch(() => undefined);
      await this.destroy(m);
      poolStarts.inc({ runtime: rt, result: 'miss' });
      return undefined;
    }
    poolStarts.inc({ runtime: rt, result: 'hit' });
    const env = Object.fromEntries(input.env.map((e) => [e.name, e.value]));
    const how = env.MK_FUNCTION_HANDLER ? { handler: env.MK_FUNCTION_HANDLER } : { command: env.MK_FUNCTION_COMMAND ?? '' };
    let error: string | undefined;
    try {
      const res = await fetch(`http://${m.ip}:${this.port}/init`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ codeDir: CODE_DIR, ...how, env }), signal: AbortSignal.timeout(INIT_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200) error = `the loader's /init answered ${res.status}: ${(JSON.parse(text) as { error?: string }).error ?? text}`;
    } catch (err) {
      error = `the loader's /init failed: ${messageOf(err)}`;
    }
    if (error) {
      // The normal way on: the container ends, and the pod's restart runs the loader from its env.
      this.opts.log.warn({ member: m.name, pod: `${record.podNamespace}/${record.podName}`, err: error }, 'a warm container did not load the code; stopping it');
      await this.opts.cri.stopContainer({ containerId: m.containerId, timeout: 0 }).catch(() => undefined);
    }
    await this.opts.store.put({ ...record, initDone: true });
    const ms = this.now() - started;
    this.opts.log.info({ member: m.name, pod: `${record.podNamespace}/${record.podName}`, ms, runtime: rt }, 'warm container taken by a pod');
    return { sandboxId: m.sandboxId, containerId: m.containerId, ms, ...(error ? { error } : {}) };
  }

  readyAfter(runtime: string, ms: number): void {
    poolReadySeconds.observe({ runtime }, ms / 1000);
  }

  /** Called by the adoption overlay once an adopted sandbox is removed: its directories go. */
  async released(r: AdoptionRecord): Promise<void> {
    await rm(this.memberDir(r.member), { recursive: true, force: true });
    if (r.logDir) await rm(r.logDir, { recursive: true, force: true });
  }

  private coldStart(rt: FunctionRuntime): void {
    const now = this.now();
    const list = (this.coldStarts.get(rt) ?? []).filter((t) => now - t < 10 * 60_000);
    list.push(now);
    this.coldStarts.set(rt, list);
  }

  private gauge(): void {
    for (const rt of this.runtimes) {
      for (const state of ['starting', 'ready'] as const) {
        poolMembers.set({ runtime: rt, state }, [...this.members.values()].filter((m) => m.runtime === rt && m.state === state).length);
      }
    }
  }

  /** Looks at the pool's size soon (after a take or a miss). */
  private nudge(): void {
    if (this.stopped) return;
    if (this.filling) { this.again = true; return; }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped || this.filling) return;
    this.filling = this.fill().catch((err) => this.opts.log.warn({ err: messageOf(err) }, 'warm pool refill failed; trying again'))
      .finally(() => {
        this.filling = undefined;
        if (this.stopped) return;
        const delay = this.again ? 0 : this.opts.refillMs ?? 2_000;
        this.again = false;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.tick(), delay);
        this.timer.unref();
      });
  }

  /** One member made or removed per runtime and pass, until each runtime has its target. */
  private async fill(): Promise<void> {
    if (this.opts.canStart && !this.opts.canStart()) return;
    for (let changed = true; changed && !this.stopped;) {
      changed = false;
      for (const rt of this.runtimes) {
        if (this.stopped) return;
        const target = poolTarget(this.opts.size, this.coldStarts.get(rt) ?? [], this.now());
        const mine = [...this.members.values()].filter((m) => m.runtime === rt);
        if (mine.length < target && (await this.imageReady(rt))) {
          changed = (await this.make(rt)) || changed;
        } else if (mine.length > target) {
          const idle = mine.find((m) => m.state === 'ready');
          if (idle) { await this.destroy(idle); changed = true; }
        }
      }
    }
  }

  /** Whether the runtime's image is on the node (the background build or a pod made it). */
  private async imageReady(rt: FunctionRuntime): Promise<boolean> {
    if (this.imagePresent.has(rt)) return true;
    const st = await this.opts.cri.imageStatus({ image: { image: RUNTIME_IMAGE_LATEST[rt] } });
    if (st.image) this.imagePresent.add(rt);
    return !!st.image;
  }

  /** The pod a member's sandbox and container are built as (never stored anywhere). */
  private memberPod(name: string, rt: FunctionRuntime): Pod {
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: POOL_NAMESPACE, uid: randomUUID() },
      spec: {
        containers: [{ name: CONTAINER_NAME, image: RUNTIME_IMAGE_LATEST[rt], imagePullPolicy: 'IfNotPresent' }],
        restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 1,
      },
    };
  }

  /** Makes one member: sandbox, loader container, and waits for it to listen. False when it failed. */
  private async make(rt: FunctionRuntime): Promise<boolean> {
    const name = `mk-pool-${rt}-${randomBytes(4).toString('hex')}`;
    const m: Member = { name, runtime: rt, state: 'starting' };
    this.members.set(name, m);
    this.gauge();
    const started = this.now();
    const labels = { [LABEL_FUNCTION_POOL]: rt, [LABEL_POOL_MEMBER]: name };
    try {
      const dir = this.memberDir(name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const pod = this.memberPod(name, rt);
      const sandboxOpts = this.opts.sandbox();
      const sandboxConfig = { ...buildSandboxConfig(pod, sandboxOpts, 0), labels };
      m.logDir = podLogDirectory(pod, sandboxOpts.podLogsRoot);
      m.sandboxId = (await this.opts.cri.runPodSandbox({ config: sandboxConfig })).podSandboxId;
      const base = buildContainerConfig(pod, pod.spec.containers[0], 0, 0, {
        ...(this.opts.seccompProfileRoot ? { seccompProfileRoot: this.opts.seccompProfileRoot } : {}),
        volumeMounts: [{ containerPath: CODE_DIR, hostPath: dir, readonly: true }],
      });
      const config = { ...base, labels, annotations: {} };
      m.containerId = (await this.opts.cri.createContainer({ podSandboxId: m.sandboxId, config, sandboxConfig })).containerId;
      await this.opts.cri.startContainer({ containerId: m.containerId });
      m.ip = (await this.opts.cri.podSandboxStatus({ podSandboxId: m.sandboxId })).status?.network?.ip || undefined;
      if (!m.ip) throw new Error('the member\'s sandbox has no IP');
      await this.waitListening(m.ip);
      if (this.stopped || !this.members.has(name)) return false;
      m.state = 'ready';
      this.gauge();
      this.opts.log.info({ member: name, runtime: rt, sandboxId: m.sandboxId, ms: this.now() - started }, 'warm container ready');
      return true;
    } catch (err) {
      this.opts.log.warn({ member: name, runtime: rt, err: messageOf(err) }, 'could not make a warm container; trying again later');
      await this.destroy(m);
      return false;
    }
  }

  /** Waits until the loader at `ip` answers /healthz (503 before /init). Throws after LISTEN_TIMEOUT_MS. */
  private async waitListening(ip: string): Promise<void> {
    const deadline = this.now() + LISTEN_TIMEOUT_MS;
    for (;;) {
      try {
        const res = await fetch(`http://${ip}:${this.port}/healthz`, { signal: AbortSignal.timeout(1_000) });
        const body = (await res.json()) as { ready?: boolean };
        if (body.ready === false) return;
        throw new Error(`the loader at ${ip} is already initialised`);
      } catch (err) {
        if (err instanceof Error && err.message.includes('already initialised')) throw err;
        if (this.now() > deadline) throw new Error(`the loader at ${ip}:${this.port} did not answer within ${LISTEN_TIMEOUT_MS} ms: ${messageOf(err)}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops and removes a member's sandbox (its container goes with it) and its directories. */
  private async destroy(m: Member): Promise<void> {
    this.members.delete(m.name);
    this.gauge();
    if (m.sandboxId) {
      await this.opts.cri.stopPodSandbox({ podSandboxId: m.sandboxId }).catch((err) => { if (!isNotFound(err)) this.opts.log.warn({ member: m.name, err: messageOf(err) }, 'could not stop a warm container'); });
      await this.opts.cri.removePodSandbox({ podSandboxId: m.sandboxId }).catch((err) => { if (!isNotFound(err)) this.opts.log.warn({ member: m.name, err: messageOf(err) }, 'could not remove a warm container'); });
    }
    await rm(this.memberDir(m.name), { recursive: true, force: true });
    if (m.logDir) await rm(m.logDir, { recursive: true, force: true });
  }

  /** See the module comment. */
  private async recover(): Promise<void> {
    const sandboxes = (await this.opts.cri.listPodSandbox({})).items ?? [];
    const live = new Set(sandboxes.map((s) => s.id));
    // Adoptions whose sandbox is gone; adoptions killed before their /init.
    for (const r of this.opts.store.all()) {
      if (!live.has(r.sandboxId)) {
        this.opts.log.info({ sandboxId: r.sandboxId, pod: `${r.podNamespace}/${r.podName}` }, 'forgetting the adoption of a sandbox that is gone');
        await this.opts.store.remove(r.sandboxId);
        await this.released(r);
      } else if (!r.initDone) {
        this.opts.log.warn({ sandboxId: r.sandboxId, pod: `${r.podNamespace}/${r.podName}` }, 'a warm container was taken but never initialised; stopping it so its pod restarts it');
        await this.opts.cri.stopContainer({ containerId: r.containerId, timeout: 0 }).catch((err) => { if (!isNotFound(err)) throw err; });
        await this.opts.store.put({ ...r, initDone: true });
      }
    }
    // Members not adopted: kept when their loader still waits for /init, removed otherwise.
    const containers = (await this.opts.cri.listContainers({})).containers ?? [];
    for (const s of sandboxes) {
      const rt = s.labels?.[LABEL_FUNCTION_POOL] as FunctionRuntime | undefined;
      const name = s.labels?.[LABEL_POOL_MEMBER];
      if (!rt || !name || this.opts.store.ofSandbox(s.id)) continue;
      const c = containers.find((x) => x.podSandboxId === s.id && x.state === 'CONTAINER_RUNNING');
      const m: Member = {
        name, runtime: rt, state: 'starting', sandboxId: s.id,
        ...(c ? { containerId: c.id } : {}),
        logDir: podLogDirectory({ ...this.memberPod(name, rt), metadata: { name, namespace: POOL_NAMESPACE, uid: s.metadata?.uid ?? '' } }, this.opts.sandbox().podLogsRoot),
      };
      let keep = false;
      if (c && s.state === 'SANDBOX_READY' && this.runtimes.includes(rt) && this.opts.size > 0) {
        m.ip = (await this.opts.cri.podSandboxStatus({ podSandboxId: s.id }).catch(() => undefined))?.status?.network?.ip || undefined;
        if (m.ip) keep = await this.waitListeningOnce(m.ip);
      }
      if (keep) {
        m.state = 'ready';
        this.members.set(name, m);
        this.opts.log.info({ member: name, runtime: rt, sandboxId: s.id }, 'keeping a warm container of an earlier agent');
      } else {
        this.opts.log.info({ member: name, runtime: rt, sandboxId: s.id }, 'removing a warm container of an earlier agent that cannot be used');
        await this.destroy(m);
      }
    }
    // Directories of members that are neither kept nor adopted.
    const wanted = new Set([...this.members.keys(), ...this.opts.store.all().map((r) => r.member)]);
    for (const d of await readdir(path.join(this.opts.root, MEMBERS_DIR)).catch(() => [] as string[])) {
      if (!wanted.has(d)) await rm(this.memberDir(d), { recursive: true, force: true });
    }
    this.gauge();
  }

  /** Whether the loader at `ip` answers as an uninitialised one now. */
  private async waitListeningOnce(ip: string): Promise<boolean> {
    try {
      const res = await fetch(`http://${ip}:${this.port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return ((await res.json()) as { ready?: boolean }).ready === false;
    } catch {
      return false;
    }
  }
}

/**
 * Makes `src`'s tree appear under `dst` (which exists): files as hard links (the code cache and
 * the pool share a file system), copied when a link is refused; symbolic links as they are.
 */
export async function linkTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const e of await readdir(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dst, e.name);
    if (e.isDirectory()) await linkTree(from, to);
    else if (e.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (e.isFile()) {
      try {
        await link(from, to);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
        await copyFile(from, to);
      }
    }
  }
}
