/**
 * Storage end to end on a whole `mk up` cluster (nats-server, control plane, node agent,
 * containerd, CNI, all in a network namespace of the test): a claim of the default class
 * `local-path` provisioned for a ReplicaSet's pod and keeping its data across pods; a claim with
 * no class waiting for a hand-made hostPath volume; Delete and Retain reclaim of local-path
 * volumes on the node's disk; pvc-protection of a claim in use; a ConfigMap change reaching a
 * running pod; a Secret's value kept out of events, describe output and the cluster's logs; bad
 * volumes refused; a node agent SIGKILLed while a pod's volumes are set up, then the bus
 * server restarted, without losing a claim; and a StatefulSet whose replica, deleted, comes back
 * with its name, DNS name and data, through a control plane SIGKILLed while its claims are made.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

/** A claim of `size`; `cls` undefined: no storageClassName (the default class applies). */
const claimYaml = (name: string, cls?: string, size = '64Mi') => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [ReadWriteOnce]
${cls === undefined ? '' : `  storageClassName: ${JSON.stringify(cls)}\n`}  resources:
    requests:
      storage: ${size}
`;

/** A busybox pod running `command` with `volumes` (YAML list items) mounted by `mounts`. */
const podYaml = (name: string, command: string, mounts: string, volumes: string, restartPolicy = 'Always', extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: ${restartPolicy}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(command)}]
${extra}      volumeMounts:
${mounts}
  volumes:
${volumes}
`;

/** A pod that mounts claim `claim` at /data and runs `command`. */
const claimPod = (name: string, claim: string, command: string, restartPolicy = 'Always') => podYaml(name, command,
  '        - { name: data, mountPath: /data }',
  `    - name: data\n      persistentVolumeClaim: { claimName: ${claim} }`, restartPolicy);

interface EventItem { type: string; reason: string; message: string; involvedObject: { kind: string; name: string } }

describeE2e('storage on a one-machine cluster', () => {
  let c: TestCluster;
  /** The test's own directories (a hostPath volume, a path outside the node's roots): removed afterwards. */
  let scratch: string;

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await mkOk([...args, '-o', 'json'])) as T;
  const apply = (yaml: string) => mkOk(['apply', '-f', '-'], yaml);
  const getPod = (name: string) => json<Pod>(['get', 'pod', name]);
  const getClaim = (name: string) => json<PersistentVolumeClaim>(['get', 'pvc', name]);
  const getVolume = (name: string) => json<PersistentVolume>(['get', 'pv', name]);
  const waitPhase = (name: string, phase: string, ms = 120_000) =>
    waitFor(`pod ${name} ${phase}`, async () => { const p = await getPod(name); return p.status?.phase === phase ? p : null; }, ms);
  const waitClaimBound = (name: string, ms = 120_000) =>
    waitFor(`claim ${name} Bound`, async () => { const x = await getClaim(name); return x.status?.phase === 'Bound' ? x : null; }, ms);
  /** Whether `mk get KIND NAME` says it is not found (and fails otherwise for anything but found). */
  const gone = async (kind: string, name: string): Promise<boolean> => {
    const r = await c.mk(['get', kind, name]);
    if (r.code === 0) return false;
    if (/not found/.test(r.stderr)) return true;
    throw new Error(`mk get ${kind} ${name}: ${r.stderr}`);
  };
  /** The events of one object (whole messages: JSON, not the table, which may shorten them). */
  const eventsOf = async (name: string): Promise<EventItem[]> =>
    (await json<{ items: EventItem[] }>(['get', 'events', '--field-selector', `involvedObject.name=${name}`])).items;
  const exec = async (pod: string, command: string): Promise<string> => mkOk(['exec', pod, '--', 'sh', '-c', command]);

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-storage-'));
    fs.mkdirSync(path.join(scratch, 'allowed'));
    // `mk up --host-path-root` hands the allowed root to its node agent.
    c = await startCluster({ upArgs: ['--host-path-root', path.join(scratch, 'allowed')] });
  });
  afterAll(async () => {
    await c?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('provisions a claim of the default class local-path for a ReplicaSet\'s pod and keeps its data for the next pod', async () => {
    // The control plane of `mk up` made the default class, its volumes in the data directory.
    const sc = await json<StorageClass>(['get', 'storageclass', 'local-path']);
    expect(sc).toMatchObject({
      provisioner: 'mk.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
      parameters: { nodePath: path.join(c.dataDir, 'storage') },
    });
    expect(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');

    await apply(claimYaml('keeper-data'));
    // No pod yet: the claim gets the default class and waits for its first consumer.
    const waiting = await waitFor('the claim waiting for a consumer', async () => {
      const x = await getClaim('keeper-data');
      return x.spec.storageClassName === 'local-path' && (await eventsOf('keeper-data')).some((e) => e.reason === 'WaitForFirstConsumer') ? x : null;
    }, 60_000);
    expect(waiting.status?.phase).toBe('Pending');
    expect(waiting.spec.volumeName).toBeUndefined();

    await apply(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: keeper
spec:
  replicas: 1
  selector: { matchLabels: { app: keeper } }
  template:
    metadata:
      labels: { app: keeper }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
          volumeMounts:
            - { name: data, mountPath: /data }
      volumes:
        - name: data
          persistentVolumeClaim: { claimName: keeper-data }
`);
    const running = async (): Promise<Pod | null> => {
      const items = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=keeper'])).items.filter((p) => !p.metadata.deletionTimestamp);
      return items.length === 1 && items[0].status?.phase === 'Running' ? items[0] : null;
    };
    const first = await waitFor('the ReplicaSet\'s pod Running', running, 180_000);
    const claim = await waitClaimBound('keeper-data');
    expect(claim.spec.volumeName).toBe(`pvc-${claim.metadata.uid}`);
    const pv = await getVolume(claim.spec.volumeName!);
    const dir = path.join(c.dataDir, 'storage', `pvc-${claim.metadata.uid}_default_keeper-data`);
    expect(pv.spec.local?.path).toBe(dir);
    expect(pv.spec.claimRef).toMatchObject({ name: 'keeper-data', uid: claim.metadata.uid });
    expect(pv.status?.phase).toBe('Bound');
    expect(pv.spec.nodeAffinity?.required.nodeSelectorTerms[0].matchExpressions?.[0]).toMatchObject({ key: 'kubernetes.io/hostname', values: [first.spec.nodeName] });
    expect((await eventsOf('keeper-data')).map((e) => e.reason)).toContain('ProvisioningSucceeded');

    const token = `kept-${randomBytes(6).toString('hex')}`;
    await exec(first.metadata.name, `echo ${token} > /data/note`);
    // Written through the mount into the volume's directory on the node.
    expect(fs.readFileSync(path.join(dir, 'note'), 'utf8')).toBe(`${token}\n`);

    await mkOk(['delete', 'pod', first.metadata.name]);
    const second = await waitFor('a new pod of the ReplicaSet Running', async () => {
      const p = await running();
      return p && p.metadata.name !== first.metadata.name ? p : null;
    }, 180_000);
    expect(await exec(second.metadata.name, 'cat /data/note')).toBe(`${token}\n`);
    expect((await getClaim('keeper-data')).spec.volumeName).toBe(pv.metadata.name);
  });

  it('leaves a claim with class "" Pending with FailedBinding until a fitting hostPath volume exists, then binds it', async () => {
    await apply(claimYaml('manual', '', '100Mi'));
    const failed = await waitFor('FailedBinding on the claim', async () => (await eventsOf('manual')).find((e) => e.reason === 'FailedBinding'), 60_000);
    expect(failed.message).toBe('no persistent volumes available for this claim and no storage class is set');
    expect((await getClaim('manual')).status?.phase).toBe('Pending');

    // Too small a volume does not fit; one of the claim's size and mode does.
    const dir = path.join(scratch, 'manual-pv');
    fs.mkdirSync(dir);
    const pvYaml = (name: string, size: string) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
spec:
  capacity: { storage: ${size} }
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath: { path: ${dir} }
`;
    await apply(pvYaml('manual-small', '10Mi'));
    await apply(pvYaml('manual-pv', '1Gi'));
    const bound = await waitClaimBound('manual', 60_000);
    expect(bound.spec.volumeName).toBe('manual-pv');
    expect((await getVolume('manual-pv')).status?.phase).toBe('Bound');
    await waitFor('the small volume Available, unbound', async () => ((await getVolume('manual-small')).status?.phase === 'Available' ? true : null), 30_000);

    // The pod writes into the hostPath directory through the claim.
    await apply(claimPod('manual-user', 'manual', 'echo through-the-claim > /data/out', 'Never'));
    await waitPhase('manual-user', 'Succeeded');
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('through-the-claim\n');
    await mkOk(['delete', 'pod', 'manual-user']);
  });

  it('removes a deleted claim\'s local-path volume and directory (Delete), and keeps them Released with a Retain class', async () => {
    /** Makes claim `name` of `cls`, has a pod write into it and finish; returns the claim and its volume. */
    const used = async (name: string, cls?: string) => {
      await apply(claimYaml(name, cls));
      await apply(claimPod(`${name}-user`, name, 'echo data > /data/file', 'Never'));
      await waitPhase(`${name}-user`, 'Succeeded');
      const claim = await waitClaimBound(name);
      const pv = await getVolume(claim.spec.volumeName!);
      expect(fs.readFileSync(path.join(pv.spec.local!.path, 'file'), 'utf8')).toBe('data\n');
      await mkOk(['delete', 'pod', `${name}-user`]);
      return { claim, pv };
    };

    const del = await used('deleted');
    expect(del.pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    await mkOk(['delete', 'pvc', 'deleted']);
    await waitFor('the Delete volume gone', async () => gone('pv', del.pv.metadata.name), 60_000);
    await waitFor('its directory removed from the node', async () => !fs.existsSync(del.pv.spec.local!.path), 60_000);

    const base = path.join(c.dataDir, 'retained');
    await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: keep
provisioner: mk.io/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
parameters:
  nodePath: ${base}
`);
    const kept = await used('kept', 'keep');
    expect(kept.pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(path.dirname(kept.pv.spec.local!.path)).toBe(base);
    await mkOk(['delete', 'pvc', 'kept']);
    const released = await waitFor('the Retain volume Released', async () => {
      const v = await getVolume(kept.pv.metadata.name);
      return v.status?.phase === 'Released' ? v : null;
    }, 60_000);
    expect(released.metadata.deletionTimestamp).toBeUndefined();
    expect(fs.readFileSync(path.join(kept.pv.spec.local!.path, 'file'), 'utf8')).toBe('data\n');
    // Deleting the Released volume itself leaves the directory too (Retain).
    await mkOk(['delete', 'pv', kept.pv.metadata.name]);
    await waitFor('the Released volume gone', async () => gone('pv', kept.pv.metadata.name), 60_000);
    expect(fs.readFileSync(path.join(kept.pv.spec.local!.path, 'file'), 'utf8')).toBe('data\n');
  });

  it('keeps a claim in use Terminating with kubernetes.io/pvc-protection until its pod is deleted', async () => {
    await apply(claimYaml('busy'));
    await apply(claimPod('busy-user', 'busy', 'sleep 3600'));
    await waitPhase('busy-user', 'Running');
    const claim = await waitClaimBound('busy');
    expect(claim.metadata.finalizers).toContain('kubernetes.io/pvc-protection');

    await mkOk(['delete', 'pvc', 'busy', '--wait=false']);
    const terminating = await getClaim('busy');
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(terminating.metadata.finalizers).toContain('kubernetes.io/pvc-protection');
    expect(await mkOk(['describe', 'pvc', 'busy'])).toMatch(/Status:\s+Terminating/);
    // Held for as long as the pod runs: watched over a window (the claim must not go in it), and
    // the pod still writes to the volume.
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      expect(await gone('pvc', 'busy')).toBe(false);
    }
    await exec('busy-user', 'echo still > /data/x');
    expect((await getClaim('busy')).metadata.finalizers).toContain('kubernetes.io/pvc-protection');

    await mkOk(['delete', 'pod', 'busy-user']);
    await waitFor('the claim gone once its pod is', async () => gone('pvc', 'busy'), 60_000);
    await waitFor('its Delete volume gone too', async () => gone('pv', claim.spec.volumeName!), 60_000);
  });

  it('gives a non-root pod\'s emptyDir, claim and secret to its fsGroup, so it writes and reads them', async () => {
    await apply(`apiVersion: v1
kind: Secret
metadata:
  name: grouped
stringData:
  token: for-the-group
`);
    await apply(claimYaml('grouped-data'));
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: grouped
spec:
  restartPolicy: Never
  securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 }
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "id -G && echo w > /scratch/f && echo w > /data/f && cat /creds/token && echo && stat -c '%g %a' /data/f /data"]
      volumeMounts:
        - { name: scratch, mountPath: /scratch }
        - { name: data, mountPath: /data }
        - { name: creds, mountPath: /creds }
  volumes:
    - name: scratch
      emptyDir: {}
    - name: data
      persistentVolumeClaim: { claimName: grouped-data }
    - name: creds
      secret: { secretName: grouped, defaultMode: 0400 }
`);
    await waitPhase('grouped', 'Succeeded', 120_000);
    const lines = (await mkOk(['logs', 'grouped'])).trim().split('\n');
    expect(lines[0].split(' ')).toEqual(['1000', '2000']);
    // The file made in the claim belongs to the group through the directory's setgid bit.
    expect(lines.slice(1)).toEqual(['for-the-group', '2000 644', '2000 2777']);
    await mkOk(['delete', 'pod', 'grouped']);
    await mkOk(['delete', 'pvc', 'grouped-data']);
    await mkOk(['delete', 'secret', 'grouped']);
  });

  it('brings a changed ConfigMap to the files of a running pod', async () => {
    const cm = (greeting: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
data:
  greeting: ${greeting}
`;
    await apply(cm('hello'));
    await apply(podYaml('conf-user', 'sleep 3600', '        - { name: conf, mountPath: /etc/conf }', '    - name: conf\n      configMap: { name: conf }'));
    await waitPhase('conf-user', 'Running');
    expect(await exec('conf-user', 'cat /etc/conf/greeting')).toBe('hello');
    await apply(cm('goodbye'));
    const now = await waitFor('the new value in the pod', async () => {
      const v = await exec('conf-user', 'cat /etc/conf/greeting');
      return v === 'goodbye' ? v : null;
    }, 120_000, 1_000);
    expect(now).toBe('goodbye');
    // The same container, changed underneath, not restarted.
    expect((await getPod('conf-user')).status?.containerStatuses?.[0]?.restartCount).toBe(0);
    await mkOk(['delete', 'pod', 'conf-user']);
  });

  it('uses a Secret in env and as files, and never shows its value in events, describe, logs or the store', async () => {
    const value = `pw-${randomBytes(12).toString('hex')}`;
    const encoded = Buffer.from(value).toString('base64');
    await apply(`apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
data:
  password: ${encoded}
`);
    await apply(podYaml('secret-user', 'sleep 3600', '        - { name: creds, mountPath: /etc/creds }', '    - name: creds\n      secret: { secretName: creds }', 'Always',
      '      env:\n        - name: PASSWORD\n          valueFrom: { secretKeyRef: { name: creds, key: password } }\n'));
    await waitPhase('secret-user', 'Running');
    // The pod has it, in both forms: compared by digest, so that no command line carries the value.
    const digest = createHash('sha256').update(value).digest('hex');
    expect(await exec('secret-user', 'printf %s "$PASSWORD" | sha256sum; sha256sum < /etc/creds/password')).toBe(`${digest}  -\n${digest}  -\n`);

    const leaks = (what: string, text: string) => {
      expect({ what, plain: text.includes(value), base64: text.includes(encoded) }).toEqual({ what, plain: false, base64: false });
    };
    leaks('events', await mkOk(['get', 'events', '-A', '-o', 'json']));
    leaks('describe pod', await mkOk(['describe', 'pod', 'secret-user']));
    leaks('describe secret', await mkOk(['describe', 'secret', 'creds']));
    leaks('pod logs', await mkOk(['logs', 'secret-user']));
    const logs = path.join(c.dataDir, 'logs');
    const files = fs.readdirSync(logs).filter((f) => f.endsWith('.log'));
    expect(files).toEqual(expect.arrayContaining(['control-plane.log', 'node-agent.log']));
    for (const f of files) leaks(`logs/${f}`, fs.readFileSync(path.join(logs, f), 'latin1'));
    // Encrypted at rest: the bus server's files hold neither form.
    const store = path.join(c.dataDir, 'nats');
    const stored = (fs.readdirSync(store, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(store, f)).isFile());
    // The objects bucket's stream files among them: the check looks at the store itself.
    expect(stored.some((f) => /\.blk$/.test(f))).toBe(true);
    for (const f of stored) leaks(`nats/${f}`, fs.readFileSync(path.join(store, f), 'latin1'));
    await mkOk(['delete', 'pod', 'secret-user']);
  });

  it('mounts a hostPath inside the root `mk up --host-path-root` allows and refuses one outside at mount, a subPath with .. at apply, and a claim larger than the node has room for', async () => {
    const outside = path.join(scratch, 'not-allowed');
    fs.mkdirSync(outside);
    await apply(podYaml('bad-host', 'sleep 3600', '        - { name: host, mountPath: /host }', `    - name: host\n      hostPath: { path: ${outside} }`));
    const failed = await waitFor('FailedMount for the hostPath', async () => (await eventsOf('bad-host')).find((e) => e.reason === 'FailedMount'), 90_000);
    expect(failed.type).toBe('Warning');
    expect(failed.message).toContain(`hostPath ${outside} is outside the node's allowed roots`);
    const pod = await getPod('bad-host');
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeUndefined();
    await mkOk(['delete', 'pod', 'bad-host', '--grace-period', '0']);
    // Inside the root `mk up --host-path-root` allowed, the pod writes to the host's directory.
    const allowed = path.join(scratch, 'allowed');
    await apply(podYaml('good-host', 'echo from-the-pod > /host/out', '        - { name: host, mountPath: /host }',
      `    - name: host\n      hostPath: { path: ${allowed}, type: Directory }`, 'Never'));
    await waitPhase('good-host', 'Succeeded');
    expect(fs.readFileSync(path.join(allowed, 'out'), 'utf8')).toBe('from-the-pod\n');
    await mkOk(['delete', 'pod', 'good-host']);

    const r = await c.mk(['apply', '-f', '-'], {
      stdin: podYaml('bad-sub', 'sleep 3600', '        - { name: scratch, mountPath: /s, subPath: "a/../../etc" }', '    - name: scratch\n      emptyDir: {}'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec\.containers\[0\]\.volumeMounts\[0\]\.subPath: Invalid value: "a\/\.\.\/\.\.\/etc": must not contain '\.\.'/);
    expect(await gone('pod', 'bad-sub')).toBe(true);

    // A claim larger than the node has room for: its pod is unschedulable, in the scheduler's
    // words, and the claim waits Pending, provisioned nowhere.
    await apply(claimYaml('huge', undefined, '100Ti'));
    await apply(claimPod('huge-user', 'huge', 'sleep 3600'));
    const unschedulable = await waitFor('FailedScheduling for the huge claim', async () => (await eventsOf('huge-user')).find((e) => e.reason === 'FailedScheduling'), 60_000);
    expect(unschedulable.message).toBe('0/1 nodes are available: 1 node(s) did not have enough free storage. preemption: not eligible.');
    const huge = await getClaim('huge');
    expect(huge.status?.phase).toBe('Pending');
    expect(huge.spec.volumeName).toBeUndefined();
    expect(huge.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBeUndefined();
    expect((await getPod('huge-user')).spec.nodeName).toBeUndefined();
    await mkOk(['delete', 'pod', 'huge-user', '--grace-period', '0']);
    await mkOk(['delete', 'pvc', 'huge']);
    await waitFor('the huge claim gone', async () => gone('pvc', 'huge'), 60_000);
  });

  it('starts a pod with emptyDir, configMap and claim through a SIGKILLed node agent, and binds a claim after the bus server restarts', async () => {
    await apply(claimYaml('chaos-data'));
    // Its ConfigMap comes later: the pod is held in the middle of its volumes' setup (emptyDir and
    // claim done, FailedMount for the rest) when its node agent is killed.
    await apply(podYaml('chaos', 'cat /conf/key > /scratch/copy && echo started > /data/started && exec sleep 3600',
      '        - { name: scratch, mountPath: /scratch }\n        - { name: conf, mountPath: /conf }\n        - { name: data, mountPath: /data }',
      '    - name: scratch\n      emptyDir: {}\n    - name: conf\n      configMap: { name: chaos-conf }\n    - name: data\n      persistentVolumeClaim: { claimName: chaos-data }'));
    const mountFailed = await waitFor('FailedMount for the missing ConfigMap', async () => (await eventsOf('chaos')).find((e) => e.reason === 'FailedMount'), 90_000);
    expect(mountFailed.message).toContain('configmap "chaos-conf" not found');
    const placed = await getPod('chaos');
    expect(placed.status?.phase).toBe('Pending');
    const bound = await waitClaimBound('chaos-data');
    const dir = (await getVolume(bound.spec.volumeName!)).spec.local!.path;
    await waitFor('the claim\'s directory made on the node', async () => fs.existsSync(dir), 30_000);

    const agent = c.pidOf(' node-agent');
    expect(agent).toBeDefined();
    process.kill(agent!, 'SIGKILL');
    await apply(`apiVersion: v1
kind: ConfigMap
metadata:
  name: chaos-conf
data:
  key: from-the-configmap
`);
    await waitFor('the node agent restarted', async () => { const p = c.pidOf(' node-agent'); return p !== undefined && p !== agent ? p : null; }, 60_000);
    const pod = await waitPhase('chaos', 'Running', 180_000);
    expect(pod.metadata.uid).toBe(placed.metadata.uid);
    // Its one container was started once, whichever agent started it.
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    // The pod may have been Running before the new agent serves exec: asked until it does.
    const seen = await waitFor('exec served by the restarted agent', async () => {
      const r = await c.mk(['exec', 'chaos', '--', 'cat', '/scratch/copy', '/conf/key', '/data/started']);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout;
    }, 60_000, 500);
    expect(seen).toBe('from-the-configmapfrom-the-configmapstarted\n');
    expect(fs.readFileSync(path.join(dir, 'started'), 'utf8')).toBe('started\n');
    expect((await getClaim('chaos-data')).spec.volumeName).toBe(bound.spec.volumeName);

    const nats = c.pidOf('nats-server');
    expect(nats).toBeDefined();
    process.kill(nats!, 'SIGKILL');
    await waitFor('nats-server restarted', async () => { const p = c.pidOf('nats-server'); return p && p !== nats ? p : null; }, 60_000);
    await waitFor('the api answering again', async () => ((await c.mk(['get', 'ns'])).code === 0 ? true : null), 60_000);
    await apply(claimYaml('after-bus'));
    await apply(claimPod('after-bus-user', 'after-bus', 'echo after > /data/f', 'Never'));
    await waitPhase('after-bus-user', 'Succeeded', 180_000);
    const after = await waitClaimBound('after-bus');
    expect(fs.readFileSync(path.join((await getVolume(after.spec.volumeName!)).spec.local!.path, 'f'), 'utf8')).toBe('after\n');
    // The pod that lived through it all still has its data.
    expect(await exec('chaos', 'cat /data/started')).toBe('started\n');
  });

  it('keeps a StatefulSet replica\'s name, DNS name and data when it is deleted, through a control plane SIGKILLed while its claims are made', async () => {
    await apply(`apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "hostname >> /data/boots && exec sleep 3600"]
          volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 16Mi } }
`);
    // The control plane is killed as soon as the first claim exists: the rest of the claims, the
    // pods, their binding and provisioning are done by the restarted one.
    await waitFor('the first claim made', async () => !(await gone('pvc', 'data-web-0')), 60_000, 100);
    const cp = c.pidOf(' control-plane');
    expect(cp).toBeDefined();
    process.kill(cp!, 'SIGKILL');
    await waitFor('the control plane restarted', async () => { const p = c.pidOf(' control-plane'); return p !== undefined && p !== cp ? p : null; }, 60_000);

    const replicas = ['web-0', 'web-1', 'web-2'];
    for (const name of replicas) await waitPhase(name, 'Running', 180_000);
    const claims = new Map<string, string>();
    for (const name of replicas) claims.set(name, (await waitClaimBound(`data-${name}`)).spec.volumeName!);
    expect(new Set(claims.values()).size).toBe(3);
    for (const name of replicas) {
      expect(await waitFor(`${name} wrote its name`, async () => { const t = await exec(name, 'cat /data/boots'); return t ? t : null; }, 30_000)).toBe(`${name}\n`);
    }

    // Deleted, web-1 comes back under its name, on its own claim, and finds what it wrote.
    const first = await getPod('web-1');
    await mkOk(['delete', 'pod', 'web-1']);
    const second = await waitFor('web-1 back as a new pod', async () => {
      const r = await c.mk(['get', 'pod', 'web-1', '-o', 'json']);
      if (r.code !== 0) return null;
      const p = JSON.parse(r.stdout) as Pod;
      return p.metadata.uid !== first.metadata.uid && p.status?.phase === 'Running' ? p : null;
    }, 180_000);
    expect(second.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-web-1');
    expect(await waitFor('web-1 wrote again', async () => { const t = await exec('web-1', 'cat /data/boots'); return t === 'web-1\nweb-1\n' ? t : null; }, 30_000)).toBe('web-1\nweb-1\n');
    expect((await getClaim('data-web-1')).spec.volumeName).toBe(claims.get('web-1'));
    // Its stable DNS name follows the new pod's address.
    await waitFor('web-1.web resolves to the new pod', async () => {
      const r = await c.mk(['exec', 'web-0', '--', 'nslookup', 'web-1.web.default.svc.cluster.local']);
      return r.code === 0 && r.stdout.includes(second.status!.podIP!) ? true : null;
    }, 60_000, 500);

    // Deleting the set keeps its claims (whenDeleted: Retain, the default) and their data.
    await mkOk(['delete', 'statefulset', 'web']);
    for (const name of replicas) await waitFor(`${name} gone`, async () => gone('pod', name), 120_000);
    for (const name of replicas) expect((await getClaim(`data-${name}`)).status?.phase).toBe('Bound');
    const dir = (await getVolume(claims.get('web-2')!)).spec.local!.path;
    expect(fs.readFileSync(path.join(dir, 'boots'), 'utf8')).toBe('web-2\n');
    for (const name of replicas) await mkOk(['delete', 'pvc', `data-${name}`]);
    await mkOk(['delete', 'service', 'web']);
  });
});
