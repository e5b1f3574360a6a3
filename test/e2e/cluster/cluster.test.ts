/**
 * The first slice end to end: `mk up` in a network namespace, then the tour of the README through
 * the real CLI against real nats-server, containerd, CNI and runc.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { CriClient } from '../../../node-agent/cri';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const podYaml = (name: string, command: string, restartPolicy = 'Always', extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: ${restartPolicy}
  terminationGracePeriodSeconds: 3
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(command)}]
${extra}`;

describeE2e('a one-machine cluster', () => {
  let c: TestCluster;
  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const waitPhase = (name: string, phase: string, ms = 90_000) =>
    waitFor(`pod ${name} ${phase}`, async () => { const p = await getPod(name); return p.status?.phase === phase ? p : null; }, ms);
  const apply = async (yaml: string, name: string): Promise<void> => {
    expect(await c.mk(['apply', '-f', '-'], { stdin: yaml })).toMatchObject({ code: 0, stdout: `pod/${name} created\n` });
  };
  /** Sandboxes and containers the node's containerd still has for a pod uid. */
  const criLeft = async (uid: string): Promise<{ sandboxes: number; containers: number }> => {
    const cri = await CriClient.connect(path.join(c.dataDir, 'node', 'containerd', 'containerd.sock'));
    try {
      const filter = { labelSelector: { 'mk.io/pod-uid': uid } };
      return { sandboxes: (await cri.listPodSandbox({ filter })).items.length, containers: (await cri.listContainers({ filter })).containers.length };
    } finally {
      cri.close();
    }
  };
  /** Every pod's name and uid, as `mk get pods -o json` lists them. */
  const podUids = async (): Promise<Record<string, string | undefined>> => {
    const r = await c.mk(['get', 'pods', '-o', 'json']);
    expect(r.code).toBe(0);
    return Object.fromEntries((JSON.parse(r.stdout) as { items: Pod[] }).items.map((p) => [p.metadata.name, p.metadata.uid]));
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('runs a busybox httpd pod that serves HTTP at its pod IP, with logs and exec', async () => {
    const apply = await c.mk(['apply', '-f', path.join(__dirname, '../../../examples/web.yaml')]);
    expect(apply).toMatchObject({ code: 0 });
    expect(apply.stdout).toContain('pod/web created');
    const pod = await waitPhase('web', 'Running');
    expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(pod.spec.nodeName).toBeTruthy();
    const page = await waitFor('HTTP from the pod', async () => {
      const r = await c.run(['timeout', '5', '/bin/busybox', 'wget', '-qO-', `http://${pod.status!.podIP}:8080/`]);
      return r.code === 0 ? r.stdout : null;
    }, 30_000);
    expect(page).toContain('hello from web');

    const table = await c.mk(['get', 'pods', '-o', 'wide']);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(table.stdout).toMatch(/web\s+1\/1\s+Running\s+0\s+/);

    const logs = await waitFor('logs', async () => { const r = await c.mk(['logs', 'web']); return r.stdout.includes('serving') ? r : null; });
    expect(logs.code).toBe(0);

    const exec = await c.mk(['exec', 'web', '--', 'cat', '/www/index.html']);
    expect(exec).toMatchObject({ code: 0, stdout: 'hello from web\n' });
    const failing = await c.mk(['exec', 'web', '--', 'sh', '-c', 'exit 7']);
    expect(failing.code).toBe(7);

    const describeOut = await c.mk(['describe', 'pod', 'web']);
    expect(describeOut.stdout).toMatch(/Status:\s+Running/);
    expect(describeOut.stdout).toMatch(/Restart Count:\s+0/);

    // kubectl's Events table: the scheduler's Scheduled, then the node's image and container events.
    const described = await waitFor('pod events', async () => {
      const r = await c.mk(['describe', 'pod', 'web']);
      return /Normal\s+Started\s+/.test(r.stdout) ? r.stdout : null;
    }, 30_000);
    expect(described).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    expect(described).toMatch(/Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to \S+/);
    expect(described).toMatch(/Normal\s+(Pulled|Created)\s+\S+\s+mk-node\s+/);
    expect(described).toMatch(/Normal\s+Started\s+\S+\s+mk-node\s+Started container /);
    const events = await c.mk(['get', 'events']);
    expect(events.code).toBe(0);
    expect(events.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    for (const reason of ['Scheduled', 'Created', 'Started']) expect(events.stdout).toMatch(new RegExp(`Normal\\s+${reason}\\s+pod/web\\s+`));
  });

  it('watches pods with get -w and follows logs with logs -f', async () => {
    await apply(podYaml('ticker', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'), 'ticker');
    await waitPhase('ticker', 'Running');
    const watch = c.spawnMk(['get', 'pods', '-w']);
    const follow = c.spawnMk(['logs', '-f', 'ticker']);
    let watched = ''; let followed = '';
    watch.stdout!.on('data', (d) => { watched += d; });
    follow.stdout!.on('data', (d) => { followed += d; });
    // Listen for the exits from the start: one may end while the test awaits the other.
    const exited = (p: typeof watch) => new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    const watchExit = exited(watch);
    const followExit = exited(follow);
    try {
      await waitFor('watch header', async () => watched.includes('NAME'), 30_000);
      await apply(podYaml('watched', 'echo hi; sleep 3600'), 'watched');
      await waitFor('watched pod Running', async () => /watched\s+1\/1\s+Running/.test(watched), 60_000);
      // Lines written after the follow started arrive too.
      const now = Number(/tick (\d+)\n$/.exec(followed)?.[1] ?? 0);
      await waitFor('new lines', async () => followed.includes(`tick ${now + 2}\n`), 30_000);
    } finally {
      watch.kill('SIGINT');
      follow.kill('SIGINT');
    }
    expect(await watchExit).toBe(0);
    expect(await followExit).toBe(0);
    const uids = [(await getPod('watched')).metadata.uid!, (await getPod('ticker')).metadata.uid!];
    const del = await c.mk(['delete', 'pod', 'watched', 'ticker', '--grace-period', '0']);
    expect(del).toMatchObject({ code: 0, stdout: 'pod "watched" deleted\npod "ticker" deleted\n' });
    for (const name of ['watched', 'ticker']) expect(await c.mk(['get', 'pod', name])).toMatchObject({ code: 1, stderr: expect.stringContaining(`pods "${name}" not found`) });
    // A forced deletion removes the object at once; the node then tears the pods down.
    for (const uid of uids) {
      await waitFor(`pod ${uid} gone from CRI`, async () => { const left = await criLeft(uid); return left.sandboxes + left.containers === 0; }, 60_000);
    }
  });

  it('survives a SIGKILLed control plane and node agent without restarting containers or losing objects', async () => {
    const before = await getPod('web');
    const id = before.status!.containerStatuses![0].containerID;
    for (const marker of [' control-plane', ' node-agent']) {
      const pid = c.pidOf(marker);
      expect(pid).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      await waitFor(`${marker} restarted`, async () => { const p = c.pidOf(marker); return p !== undefined && p !== pid; }, 60_000);
    }
    // The restarted control plane and agent still serve and reconcile: a new pod runs.
    await waitFor('api back', async () => (await c.mk(['get', 'pods'])).code === 0, 60_000);
    expect((await c.mk(['apply', '-f', '-'], { stdin: podYaml('after', 'echo up; sleep 3600') })).code).toBe(0);
    await waitPhase('after', 'Running');
    const now = await getPod('web');
    expect(now.metadata.uid).toBe(before.metadata.uid);
    expect(now.status!.containerStatuses![0].containerID).toBe(id);
    expect(now.status!.containerStatuses![0].restartCount).toBe(0);
    expect(now.status!.phase).toBe('Running');
  });

  it('restarts an exiting container with growing backoff, counting restarts', async () => {
    expect((await c.mk(['apply', '-f', '-'], { stdin: podYaml('crash', 'echo crashing; exit 1') })).code).toBe(0);
    const p = await waitFor('two restarts', async () => {
      const pod = await getPod('crash');
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? pod : null;
    }, 120_000, 500);
    const st = p.status!.containerStatuses![0];
    expect(st.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const back = await waitFor('CrashLoopBackOff', async () => {
      const w = (await getPod('crash')).status?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === 'CrashLoopBackOff' ? w : null;
    }, 60_000);
    expect(back.message).toMatch(/back-off (20s|40s)/);
    const prev = await c.mk(['logs', 'crash', '--previous']);
    expect(prev.stdout).toContain('crashing');
  });

  it('leaves a Never pod Failed or Succeeded with the exit code', async () => {
    await apply(podYaml('fails', 'exit 3', 'Never'), 'fails');
    await apply(podYaml('works', 'echo done', 'Never'), 'works');
    const failed = await waitPhase('fails', 'Failed');
    expect(failed.status!.containerStatuses![0].state.terminated).toMatchObject({ exitCode: 3 });
    const ok = await waitPhase('works', 'Succeeded');
    expect(ok.status!.containerStatuses![0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(ok.status!.containerStatuses![0].restartCount).toBe(0);
  });

  it('shows ErrImagePull / ImagePullBackOff for an image that does not exist', async () => {
    const yaml = podYaml('noimage', 'true').replace('image: busybox', 'image: example.invalid/nothing:1');
    expect((await c.mk(['apply', '-f', '-'], { stdin: yaml })).code).toBe(0);
    // A failed pull (ErrImagePull) is followed by a back-off before the next try, as kubelet does.
    const waiting = await waitFor('ImagePullBackOff', async () => {
      const w = (await getPod('noimage')).status?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === 'ImagePullBackOff' ? w : null;
    }, 90_000);
    expect(waiting.message).toBe('Back-off pulling image "example.invalid/nothing:1"');
    expect((await getPod('noimage')).status?.phase).toBe('Pending');
    const events = (await c.mk(['events', '--for', 'pod/noimage'])).stdout;
    expect(events).toMatch(/Normal\s+Pulling\s+pod\/noimage\s+Pulling image "example\.invalid\/nothing:1"/);
    expect(events).toMatch(/Warning\s+Failed\s+pod\/noimage\s+Failed to pull image "example\.invalid\/nothing:1": \S/);
  });

  it('refuses bad input with a clear message, a non-zero exit, and no change', async () => {
    const before = (await c.mk(['get', 'pods', '-o', 'name'])).stdout;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bad-'));
    try {
      const cases: [string, string, RegExp][] = [
        ['malformed.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n', /malformed\.yaml/],
        ['unknown-field.yaml', podYaml('bad1', 'true').replace('restartPolicy', 'restartPolicyy'), /unknown field "spec\.restartPolicyy"/],
        ['bad-name.yaml', podYaml('Bad_Name', 'true'), /Bad_Name/],
        ['unknown-kind.yaml', 'apiVersion: v1\nkind: Potato\nmetadata: {name: x}\n', /Potato/],
        // A good document before a bad one: nothing may be applied.
        ['half.yaml', `${podYaml('good-half', 'true')}---\n${podYaml('bad-half', 'true').replace('image:', 'imagee:')}`, /unknown field/],
      ];
      for (const [file, body, msg] of cases) {
        fs.writeFileSync(path.join(dir, file), body);
        const r = await c.mk(['apply', '-f', path.join(dir, file)]);
        expect({ file, code: r.code }).toEqual({ file, code: 1 });
        expect(r.stderr).toMatch(msg);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect((await c.mk(['get', 'pods', '-o', 'name'])).stdout).toBe(before);
    const missing = await c.mk(['get', 'pod', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/pods "nope" not found/);
  });

  it('deletes a pod gracefully and removes its sandbox and containers', async () => {
    const pod = await getPod('web');
    const del = await c.mk(['delete', 'pod', 'web']);
    expect(del).toMatchObject({ code: 0 });
    expect(del.stdout).toContain('pod "web" deleted');
    expect((await c.mk(['get', 'pod', 'web'])).code).toBe(1);
    const r = await c.run(['timeout', '5', '/bin/busybox', 'wget', '-qO-', `http://${pod.status!.podIP}:8080/`]);
    expect(r.code).not.toBe(0);
    expect(await criLeft(pod.metadata.uid!)).toEqual({ sandboxes: 0, containers: 0 });
  });

  it('says clearly when the bus is down', async () => {
    const before = await podUids();
    expect(before.after).toBeDefined();
    expect((await c.mk(['down'])).code).toBe(0);
    const r = await c.mk(['get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the bus/);
    // Up again on the same data directory: the same objects are back (same uids), and run.
    const up = await c.mk(['up', '--no-demo', '--timeout', '240'], { timeoutMs: 300_000 });
    expect(up.code).toBe(0);
    expect(await podUids()).toEqual(before);
    const after = await waitFor('after Running again', async () => { const p = await getPod('after'); return p.status?.phase === 'Running' ? p : null; }, 120_000);
    expect(after.metadata.uid).toBe(before.after);
  });
});
