/**
 * securityContext end to end: pods on a private containerd in a test network namespace, checked by
 * what their own processes see (their logs): users and groups, a read-only root, capabilities,
 * no_new_privs and seccomp, sysctls, privileged devices, and runAsNonRoot refusing a root image.
 * Needs root, containerd, runc, the CNI plugins and busybox-static; skipped otherwise.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import { validateManifest } from '../../../messages/manifest';
import type { Container, Pod, PodStatus } from '../../../messages/pod';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { removeCgroup } from '../../../node-agent/containerd/cleanup';
import {
  LABEL_POD_UID, podCgroupParent, readContainerLogs, resolveLogPath, spawnPodActor,
  type PodActorDeps, type PodActorMessage,
} from '../../../node-agent/pods';
import { makePod } from '../../../node-agent/pods/fixtures';
import { containerdE2eUnavailable, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping securityContext e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(180_000);

interface Run { ref: Ref<PodActorMessage>; statuses: PodStatus[]; terminated: Pod[]; crashes: unknown[]; last(): PodStatus | undefined }

suite('securityContext on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let system: Ref<never>;
  const made: Pod[] = [];

  beforeAll(async () => {
    ns = await createNetns('mksec');
    ctrd = await startTestContainerd({ netns: ns });
    system = start();
  });

  afterAll(async () => {
    if (system) stop(system);
    await ctrd?.stop();
    await ns?.destroy();
    for (const pod of made) await removeCgroup(podCgroupParent(pod));
  });

  function spawn(pod: Pod, extra: Partial<PodActorDeps> = {}): Run {
    const statuses: PodStatus[] = [];
    const terminated: Pod[] = [];
    const crashes: unknown[] = [];
    const deps: PodActorDeps = {
      cri: ctrd.cri, nodeName: 'node-1', hostIP: '192.168.77.1', podLogsRoot: `${ctrd.dataDir}/pods`, resyncIntervalMs: 300,
      writeStatus: async (_p, s) => { statuses.push(s); },
      onTerminated: async (p) => { terminated.push(p); },
      log: pino({ level: process.env.MK_TEST_LOG ?? 'silent' }),
      onCrash: (_m, err, ctx) => { crashes.push(err); return (ctx as unknown as { stop: symbol }).stop; },
      ...extra,
    };
    const ref = spawnPodActor(system, deps, pod);
    return { ref, statuses, terminated, crashes, last: () => statuses[statuses.length - 1] };
  }

  const e2ePod = (name: string, spec: Partial<Pod['spec']>): Pod => {
    const pod = makePod({ restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...spec }, { name, uid: `uid-${name}-${process.pid}` });
    made.push(pod);
    return pod;
  };

  const sh = (name: string, script: string, securityContext?: Container['securityContext']): Container => ({
    name, image: BUSYBOX_IMAGE, command: ['sh', '-c', script], ...(securityContext ? { securityContext } : {}),
  });

  /** Runs a pod of one-shot containers to Succeeded and returns each container's output. */
  async function outputs(pod: Pod, extra: Partial<PodActorDeps> = {}): Promise<Record<string, string>> {
    const run = spawn(pod, extra);
    const s = await until('the pod to finish', () => {
      const l = run.last();
      if (l?.phase === 'Failed') throw new Error(`pod failed: ${JSON.stringify(l.containerStatuses)}`);
      return l?.phase === 'Succeeded' ? l : undefined;
    }, 60_000);
    expect(s.containerStatuses?.every((c) => c.state.terminated?.exitCode === 0)).toBe(true);
    const out: Record<string, string> = {};
    for (const c of pod.spec.containers) {
      const logPath = await resolveLogPath(ctrd.cri, pod, c.name, false);
      out[c.name] = (await readContainerLogs({ logPath })).toString();
    }
    await deleteAndWait(run, pod);
    expect(run.crashes).toEqual([]);
    return out;
  }

  async function deleteAndWait(run: Run, pod: Pod): Promise<void> {
    dispatch(run.ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } } });
    await until('deletion to finish', () => (run.terminated.length > 0 ? true : undefined), 60_000);
    const selector = { labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } };
    expect((await ctrd.cri.listContainers({ filter: selector })).containers).toEqual([]);
  }

  it('runs as the pod\'s and containers\' users and groups, with a read-only root, no_new_privs, seccomp and sysctls', async () => {
    const pod = e2ePod('sec-ids', {
      securityContext: {
        runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000],
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }, { name: 'kernel.shm_rmid_forced', value: '1' }],
      },
      containers: [
        sh('ids', 'id'),
        sh('override', 'id', { runAsUser: 1001, runAsGroup: 1002 }),
        sh('rofs', 'touch /probe 2>&1; echo rc=$?; touch /tmp/probe 2>&1; echo rc=$?', { readOnlyRootFilesystem: true }),
        sh('rw', 'touch /tmp/probe; echo rc=$?'),
        sh('sysctl', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced'),
        sh('nnp', "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status", { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }),
        sh('plain', "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status"),
      ],
    });
    const out = await outputs(pod);
    const ids = (s: string): { uid: string; gid: string; groups: string[] } => {
      const m = /uid=(\d+)\S* gid=(\d+)\S*(?: groups=(\S+))?/.exec(s);
      if (!m) throw new Error(`not id output: ${s}`);
      return { uid: m[1], gid: m[2], groups: (m[3] ?? '').split(',').map((g) => g.replace(/\(.*\)/, '')).filter(Boolean).sort() };
    };
    expect(ids(out.ids)).toEqual({ uid: '1000', gid: '3000', groups: expect.arrayContaining(['2000', '4000']) as unknown as string[] });
    expect(ids(out.override)).toMatchObject({ uid: '1001', gid: '1002' });
    expect(ids(out.override).groups).toEqual(expect.arrayContaining(['2000', '4000']));
    expect(out.rofs).toMatch(/Read-only file system/);
    expect(out.rofs).not.toMatch(/rc=0/);
    expect(out.rw).toBe('rc=0\n');
    expect(out.sysctl).toBe('80\n1\n');
    expect(out.nnp).toMatch(/NoNewPrivs:\s+1/);
    expect(out.nnp).toMatch(/Seccomp:\s+2/);
    expect(out.plain).toMatch(/NoNewPrivs:\s+0/);
    expect(out.plain).toMatch(/Seccomp:\s+0/);
  });

  it('drops and adds capabilities: with drop ALL CapEff is 0 and chown fails; CHOWN alone brings chown back', async () => {
    const script = "grep '^CapEff:' /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f 2>&1; echo rc=$?";
    const pod = e2ePod('sec-caps', {
      containers: [
        sh('dropall', script, { capabilities: { drop: ['ALL'] } }),
        sh('chown', script, { capabilities: { drop: ['ALL'], add: ['CAP_CHOWN'] } }),
        sh('default', script),
      ],
    });
    const out = await outputs(pod);
    expect(out.dropall).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(out.dropall).toMatch(/Operation not permitted/);
    expect(out.dropall).not.toMatch(/rc=0/);
    expect(out.chown).toMatch(/^CapEff:\s+0000000000000001$/m);
    expect(out.chown).toMatch(/rc=0/);
    expect(out.default).not.toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(out.default).toMatch(/rc=0/);
  });

  it('a privileged container sees the node\'s devices and has every capability; its neighbour does not', async () => {
    const script = "test -e /dev/loop0 && echo has-loop0 || echo no-loop0; grep '^CapEff:' /proc/self/status";
    const pod = e2ePod('sec-priv', { containers: [sh('priv', script, { privileged: true }), sh('plain', script)] });
    const out = await outputs(pod);
    const capEff = (t: string): bigint => BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(t)?.[1] ?? '0'}`);
    const SYS_ADMIN = 1n << 21n;
    const NET_ADMIN = 1n << 12n;
    expect(out.priv).toMatch(/has-loop0/);
    // Every capability the node's runtime holds (this machine withholds a few from it), SYS_ADMIN included.
    expect(capEff(out.priv) & (SYS_ADMIN | NET_ADMIN)).toBe(SYS_ADMIN | NET_ADMIN);
    expect(out.plain).toMatch(/no-loop0/);
    expect(capEff(out.plain) & (SYS_ADMIN | NET_ADMIN)).toBe(0n);
    expect(capEff(out.plain)).not.toBe(0n);
  });

  it('runAsNonRoot keeps a container of a root image waiting with CreateContainerConfigError; runAsUser lets one run', async () => {
    const pod = e2ePod('sec-nonroot', {
      securityContext: { runAsNonRoot: true },
      containers: [sh('root', 'id'), sh('user', 'id -u; sleep 3600', { runAsUser: 1000 })],
    });
    const run = spawn(pod);
    const s = await until('root waiting and user running', () => {
      const l = run.last();
      const root = l?.containerStatuses?.find((c) => c.name === 'root');
      const user = l?.containerStatuses?.find((c) => c.name === 'user');
      return root?.state.waiting?.reason === 'CreateContainerConfigError' && user?.state.running ? root : undefined;
    }, 60_000);
    expect(s.state.waiting?.message).toMatch(/runAsNonRoot but its image runs as root/);
    const selector = { labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } };
    const names = (await ctrd.cri.listContainers({ filter: selector })).containers.map((c) => c.labels['mk.io/container-name']);
    expect(names).toEqual(['user']);
    const logPath = await resolveLogPath(ctrd.cri, pod, 'user', false);
    expect(await until('the uid in the log', async () => {
      const t = (await readContainerLogs({ logPath })).toString();
      return t ? t : undefined;
    })).toBe('1000\n');
    await deleteAndWait(run, pod);
    expect(run.crashes).toEqual([]);
  });

  it('a Localhost seccomp profile from the node\'s seccomp directory filters the container\'s system calls', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'mk-seccomp-'));
    try {
      // Everything allowed except making directories, which fails with EPERM.
      const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
      await writeFile(path.join(root, 'no-mkdir.json'), JSON.stringify(profile));
      const script = 'mkdir /tmp/d 2>&1; echo rc=$?';
      const pod = e2ePod('sec-seccomp', {
        securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'no-mkdir.json' } },
        containers: [sh('filtered', script), sh('unconfined', script, { seccompProfile: { type: 'Unconfined' } })],
      });
      const out = await outputs(pod, { seccompProfileRoot: root });
      expect(out.filtered).toMatch(/Operation not permitted/);
      expect(out.filtered).not.toMatch(/rc=0/);
      expect(out.unconfined).toBe('rc=0\n');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('runs examples/security-context.yaml as its comment says', async () => {
    const { object } = validateManifest(load(await readFile(path.join(__dirname, '../../../examples/security-context.yaml'), 'utf8')));
    const example = object as Pod;
    const pod = e2ePod('sec-example', {
      ...example.spec,
      terminationGracePeriodSeconds: 1,
      containers: example.spec.containers.map((c) => ({ ...c, image: BUSYBOX_IMAGE })),
    });
    const run = spawn(pod);
    const logPath = await until('the container to start', async () => {
      const l = run.last();
      return l?.containerStatuses?.[0].state.running ? resolveLogPath(ctrd.cri, pod, 'app', false) : undefined;
    }, 60_000);
    const logs = await until('the example\'s output', async () => {
      const t = (await readContainerLogs({ logPath })).toString();
      // stdout and stderr reach the log through separate pipes: their lines may come in either order.
      if (!/^80$/m.test(t) || !/Read-only/.test(t)) throw new Error(`logs so far: ${JSON.stringify(t)}`);
      return t;
    });
    expect(logs).toMatch(/^uid=1000\S* gid=3000\S* groups=.*2000.*4000/m);
    expect(logs).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(logs).toMatch(/Read-only file system/);
    await deleteAndWait(run, pod);
    expect(run.crashes).toEqual([]);
  });
});
