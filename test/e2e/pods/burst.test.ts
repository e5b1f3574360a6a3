/**
 * Forty pods at once on one node, driven by pod actors against a private containerd in a test
 * network namespace: the burst queues in the CRI client instead of timing out; StartContainer
 * calls cut short by their deadline (containerd cancels the start half-way) never leave a pod
 * stuck; and an agent killed mid-burst (every pod actor stopped, its CRI connection closed) is
 * followed by new actors that adopt what exists, with no duplicate container for an attempt and no
 * leaked sandbox. Needs root, containerd, runc, the CNI plugins and busybox-static; skipped
 * otherwise.
 */
import { dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import { backoffOnCrash } from '../../../common/supervision';
import type { Pod, PodStatus } from '../../../messages/pod';
import { removeCgroup } from '../../../node-agent/containerd/cleanup';
import { strayTasksOf } from '../../../node-agent/containerd/stray-tasks';
import { CriClient, type CallRecord } from '../../../node-agent/cri';
import type { CreateContainerRequest } from '../../../node-agent/cri/types';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { LABEL_POD_UID, podCgroupParent, spawnPodActor, type PodActorDeps, type PodActorMessage } from '../../../node-agent/pods';
import { makePod } from '../../../node-agent/pods/fixtures';
import { ANNOTATION_RESTART_COUNT } from '../../../node-agent/pods/cri-spec';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping pod burst e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(600_000);

const PODS = 40;
const LIFECYCLE = ['RunPodSandbox', 'CreateContainer', 'StartContainer'];

/** One simulated node agent: its own CRI connection, actor system and pod actors. */
interface Agent {
  cri: CriClient;
  system: Ref<never>;
  calls: CallRecord[];
  crashes: unknown[];
  /** Each pod's actor, by uid. */
  actors: Map<string, Ref<PodActorMessage>>;
  /** Uids of the pods whose teardown finished (nothing of them left in the runtime, by the actor's account). */
  terminated: Set<string>;
  /** Close the connection and stop every actor, as a killed agent process would. */
  kill(): void;
}

suite('a burst of pods on one node', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let agents: Agent[] = [];
  let uids: string[] = [];
  // Every status written, per pod uid, across agents.
  let statuses: Map<string, PodStatus[]>;
  // Every CreateContainer that succeeded: uid, container name, attempt.
  let created: string[];

  beforeAll(async () => {
    ns = await createNetns('mkburst');
    ctrd = await startTestContainerd({ netns: ns });
  });

  afterEach(async () => {
    for (const a of agents) a.kill();
    // Calls a killed agent had already sent run to their end in containerd; let them land first.
    await until('the killed agents\' calls in flight to end', () => (agents.every((a) => Object.values(a.cri.laneStats()).every((l) => l.inFlight === 0)) ? true : undefined), 120_000, 50);
    agents = [];
    await removeAllPods(ctrd.cri);
    for (const uid of uids) await removeCgroup(podCgroupParent(makePod({}, { uid })));
    uids = [];
  });

  afterAll(async () => {
    await ctrd?.stop();
    await ns?.destroy();
  });

  beforeEach(() => {
    statuses = new Map();
    created = [];
  });

  const podsOf = (tag: string): Pod[] => Array.from({ length: PODS }, (_, i) => makePod({
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] }],
  }, { name: `${tag}-${i}`, uid: `uid-${tag}-${i}-${process.pid}` }));

  /**
   * Starts an agent and one pod actor per pod, supervised as the node agent supervises them.
   * `cutStart(n)` may give the n-th StartContainer call a deadline of its own.
   */
  async function startAgent(pods: Pod[], cutStart: (n: number) => number | undefined = () => undefined): Promise<Agent> {
    const calls: CallRecord[] = [];
    const crashes: unknown[] = [];
    const cri = await CriClient.connect(ctrd.socketPath, { onCall: (c) => calls.push(c) });
    let starts = 0;
    const runtime: PodActorDeps['cri'] = new Proxy(cri, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'startContainer') {
          return (req: unknown) => { const ms = cutStart(starts++); return target.startContainer(req as never, ms ? { timeoutMs: ms } : undefined); };
        }
        if (prop === 'createContainer') {
          return async (req: CreateContainerRequest) => {
            const res = await target.createContainer(req);
            created.push(`${req.config.labels?.[LABEL_POD_UID]}/${req.config.metadata.name}/${req.config.metadata.attempt}`);
            return res;
          };
        }
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const system = start() as Ref<never>;
    const actors = new Map<string, Ref<PodActorMessage>>();
    const terminated = new Set<string>();
    // A killed process writes nothing more: an actor still finishing a pass after kill() is muted.
    let killed = false;
    const policy = backoffOnCrash({ type: 'pod/resync' }, () => undefined);
    for (const pod of pods) {
      const uid = pod.metadata.uid as string;
      const seen = statuses.get(uid) ?? [];
      statuses.set(uid, seen);
      actors.set(uid, spawnPodActor(system, {
        cri: runtime, nodeName: 'node-1', hostIP: '192.168.77.1', podLogsRoot: `${ctrd.dataDir}/pods`, resyncIntervalMs: 1000,
        // As the node agent has it: a task containerd kept for a start cut short is deleted.
        strayTasks: strayTasksOf(ctrd.socketPath),
        writeStatus: async (_p, s) => { if (!killed) seen.push(s); },
        onTerminated: async () => { if (!killed) terminated.add(uid); },
        log: pino({ level: process.env.MK_TEST_LOG ?? 'silent' }),
        onCrash: (msg, err, ctx) => { crashes.push(err); return policy(msg, err as Error, ctx as never); },
      }, { ...pod, ...(seen.length ? { status: seen[seen.length - 1] } : {}) }));
    }
    const agent: Agent = {
      cri, system, calls, crashes, actors, terminated,
      kill: () => { if (killed) return; killed = true; stop(system); cri.close(); },
    };
    agents.push(agent);
    return agent;
  }

  const last = (uid: string): PodStatus | undefined => statuses.get(uid)?.at(-1);
  const running = (uid: string): boolean => last(uid)?.phase === 'Running' && last(uid)?.containerStatuses?.[0].state.running !== undefined;
  const allRunning = (what: string): Promise<true> => until(what, () => (uids.every(running) ? true : undefined), 300_000, 250);
  /** Pods that ever showed CrashLoopBackOff, each with its container's status history (to debug). */
  const everCrashLooped = (): string[] => uids
    .filter((u) => statuses.get(u)?.some((s) => s.containerStatuses?.[0].state.waiting?.reason === 'CrashLoopBackOff'))
    .map((u) => `${u}: ${JSON.stringify(statuses.get(u)?.map((s) => s.containerStatuses?.[0]))}`);

  /**
   * What the runtime holds once it has settled: per pod exactly one sandbox, ready, and no sandbox
   * of anyone else; each pod's newest container running at the attempt its status reports.
   * Garbage collection of replaced instances runs on the actors' next syncs, hence the wait.
   */
  async function settledRuntime(): Promise<{ restartCounts: number[]; attempts: Map<string, number[]> }> {
    return until('one ready sandbox per pod and nothing else', async () => {
      const sandboxes = (await ctrd.cri.listPodSandbox({})).items;
      const containers = (await ctrd.cri.listContainers({})).containers;
      const sbByUid = new Map<string, string[]>();
      for (const s of sandboxes) sbByUid.set(s.labels[LABEL_POD_UID], [...(sbByUid.get(s.labels[LABEL_POD_UID]) ?? []), s.state]);
      const odd = [...sbByUid].filter(([u, states]) => !uids.includes(u) || states.join() !== 'SANDBOX_READY').map(([u, states]) => `${u}: ${states.join()}`);
      const missing = uids.filter((u) => !sbByUid.has(u));
      if (odd.length || missing.length) throw new Error(`sandboxes not settled: ${[...odd, ...missing.map((u) => `${u}: none`)].join('; ')}`);
      const attempts = new Map<string, number[]>();
      const restartCounts: number[] = [];
      for (const uid of uids) {
        const mine = containers.filter((c) => c.labels[LABEL_POD_UID] === uid).sort((a, b) => b.createdAt - a.createdAt);
        attempts.set(uid, mine.map((c) => c.metadata?.attempt ?? 0));
        const status = last(uid)?.containerStatuses?.[0];
        if (mine[0]?.state !== 'CONTAINER_RUNNING' || status?.containerID !== `containerd://${mine[0].id}`) {
          throw new Error(`${uid}: newest container ${mine[0]?.id ?? 'none'} ${mine[0]?.state ?? ''} (attempts ${mine.map((c) => `${c.metadata?.attempt ?? 0}:${c.state}`).join(',')}), status says ${status?.containerID ?? 'nothing'}`);
        }
        restartCounts.push(status.restartCount);
        // The status counts the program's runs (the annotation the instance was made with), not attempts.
        expect(status.restartCount).toBe(Number(mine[0].annotations[ANNOTATION_RESTART_COUNT]));
      }
      return { restartCounts, attempts };
    }, 120_000, 500);
  }

  /**
   * Deletes every pod through its actor, as the node agent does when a pod is gone from the
   * store: each teardown must finish, and the runtime is left with nothing (no pod stuck
   * Terminating, whatever a cut start or a killed agent left behind).
   */
  async function expectAllTornDown(agent: Agent): Promise<void> {
    for (const ref of agent.actors.values()) dispatch(ref, { type: 'pod/sync', pod: null });
    await until('every pod torn down', () => (uids.every((u) => agent.terminated.has(u)) ? true : undefined), 120_000, 250);
    expect((await ctrd.cri.listContainers({})).containers.map((c) => `${c.labels[LABEL_POD_UID]}: ${c.state}`)).toEqual([]);
    expect((await ctrd.cri.listPodSandbox({})).items.map((sb) => `${sb.labels[LABEL_POD_UID]}: ${sb.state}`)).toEqual([]);
  }

  /** No pod attempt was ever created twice, in the runtime or in the calls that succeeded. */
  function expectOneContainerPerAttempt(attempts: Map<string, number[]>): void {
    for (const [uid, list] of attempts) expect({ uid, attempts: [...new Set(list)].length }).toEqual({ uid, attempts: list.length });
    expect(new Set(created).size).toBe(created.length);
  }

  it('40 pods at once reach Running, each with restartCount 0 and one container, and no CRI call times out', async () => {
    const pods = podsOf('burst');
    uids = pods.map((p) => p.metadata.uid as string);
    const agent = await startAgent(pods);
    await allRunning('40 pods Running');
    const { restartCounts, attempts } = await settledRuntime();
    expect(restartCounts).toEqual(Array(PODS).fill(0));
    expect([...attempts.values()]).toEqual(Array(PODS).fill([0]));
    expectOneContainerPerAttempt(attempts);
    expect(agent.calls.filter((c) => LIFECYCLE.includes(c.rpc) && c.error).map((c) => `${c.rpc}: ${c.error?.message}`)).toEqual([]);
    // The client held the burst back: calls waited for a slot rather than all going out at once.
    expect(Math.max(...agent.calls.filter((c) => c.rpc === 'RunPodSandbox').map((c) => c.queuedMs))).toBeGreaterThan(0);
    expect(everCrashLooped()).toEqual([]);
    expect(agent.crashes).toEqual([]);
    await expectAllTornDown(agent);
  });

  it('StartContainer calls cut short by their deadline (containerd cancels the start half-way) leave no pod stuck', async () => {
    const pods = podsOf('cut');
    uids = pods.map((p) => p.metadata.uid as string);
    // Every third of the first forty starts gets 10, 40 or 120 ms: too short for a start under
    // this load, so the runtime is cancelled before, during or after creating the task.
    const agent = await startAgent(pods, (n) => (n < PODS && n % 3 === 0 ? [10, 40, 120][(n / 3) % 3] : undefined));
    await allRunning('40 pods Running after cut starts');
    const { attempts, restartCounts } = await settledRuntime();
    const timedOut = agent.calls.filter((c) => c.rpc === 'StartContainer' && c.error?.name === 'TimeoutError');
    expect(timedOut.length).toBeGreaterThan(0);
    expectOneContainerPerAttempt(attempts);
    // Replaced, never restarted: every program (a long sleep) ran once.
    expect(restartCounts).toEqual(Array(PODS).fill(0));
    // A start the runtime abandoned is not a crash of the program.
    expect(everCrashLooped()).toEqual([]);
    expect(agent.crashes).toEqual([]);
    await expectAllTornDown(agent);
  });

  it('an agent killed mid-burst: new pod actors adopt what exists; every pod Running, no duplicate attempt, no leaked sandbox', async () => {
    const pods = podsOf('kill');
    uids = pods.map((p) => p.metadata.uid as string);
    const first = await startAgent(pods);
    await until('ten containers started', () => (first.calls.filter((c) => c.rpc === 'StartContainer' && !c.error).length >= 10 ? true : undefined), 300_000, 5);
    const lanes = first.cri.laneStats().lifecycle;
    first.kill();
    // Mid-burst: calls were in flight or queued when the agent died.
    expect(lanes.inFlight + lanes.queued).toBeGreaterThan(0);
    expect(uids.filter(running).length).toBeLessThan(PODS);
    const second = await startAgent(pods);
    await allRunning('40 pods Running after the agent restart');
    const { attempts, restartCounts } = await settledRuntime();
    expectOneContainerPerAttempt(attempts);
    expect(restartCounts).toEqual(Array(PODS).fill(0));
    expect(everCrashLooped()).toEqual([]);
    expect(second.crashes).toEqual([]);
    await expectAllTornDown(second);
  });
});
