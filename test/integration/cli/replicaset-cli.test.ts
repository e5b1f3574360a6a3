/**
 * The built CLI with ReplicaSets against a real nats-server and control plane: `mk apply` of a
 * set, `mk get rs` (and -o wide) in kubectl's columns, `mk scale` in both argument forms with its
 * --current-replicas precondition and bad input, and `mk delete rs --cascade=orphan`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { request, type Bus } from '../../../bus';
import { API, type GetResult, type ListResult, type Pod, type ReplicaSet } from '../../../messages';
import type { NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dir: string;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const getRs = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'replicasets', name })).object as ReplicaSet;
const pods = async (app: string) => (await request<ListResult>(bus, API.list, { kind: 'pods', labelSelector: `app=${app}` })).items as Pod[];
/** Waits until the set reports `n` replicas and has that many pods. */
const settled = (name: string, n: number) => until(`${name} at ${n}`, async () => {
  const rs = await getRs(name);
  const active = (await pods(name)).filter((p) => !p.metadata.deletionTimestamp);
  return rs.status?.replicas === n && active.length === n ? rs : undefined;
}, 30_000);
const RS = (name: string, replicas: number, group = 'none') => `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: ${name}\n  labels:\n    group: ${group}\n`
  + `spec:\n  replicas: ${replicas}\n`
  + `  selector:\n    matchLabels:\n      app: ${name}\n  template:\n    metadata:\n      labels:\n        app: ${name}\n`
  + '    spec:\n      containers:\n        - name: web\n          image: busybox:1.36\n';

beforeAll(async () => {
  ({ server, cp, bus, dir } = await startCliCluster('rs'));
}, 300_000);

afterAll(async () => {
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies a set and lists it like kubectl get rs', async () => {
  const f = path.join(dir, 'web.yaml');
  fs.writeFileSync(f, RS('web', 2));
  expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'replicaset.apps/web created\n', stderr: '' });
  await settled('web', 2);
  expect(await mk(['apply', '-f', f])).toMatchObject({ code: 0, stdout: 'replicaset.apps/web unchanged\n' });
  const table = await mk(['get', 'rs']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^NAME +DESIRED +CURRENT +READY +AGE\nweb +2 +2 +0 +\S+\n$/);
  const all = await mk(['get', 'all']);
  expect(all.stdout).toMatch(/^pod\/web-[a-z0-9]{5} +0\/1 +Pending/m);
  expect(all.stdout).toMatch(/^NAME +DESIRED +CURRENT +READY +AGE\nreplicaset\.apps\/web +2 +2 +0 +\S+$/m);
  const wide = await mk(['get', 'replicasets', 'web', '-o', 'wide']);
  expect(wide.stdout).toMatch(/^NAME +DESIRED +CURRENT +READY +AGE +CONTAINERS +IMAGES +SELECTOR\nweb +2 +2 +0 +\S+ +web +busybox:1\.36 +app=web\n$/);
});

it('scales with either argument form, and honours --current-replicas', async () => {
  expect(await mk(['scale', 'rs/web', '--replicas=4'])).toEqual({ code: 0, stdout: 'replicaset.apps/web scaled\n', stderr: '' });
  await settled('web', 4);
  expect(await mk(['scale', 'replicaset', 'web', '--replicas', '1', '--current-replicas', '4'])).toMatchObject({ code: 0, stdout: 'replicaset.apps/web scaled\n' });
  await settled('web', 1);
  const stale = await mk(['scale', 'rs', 'web', '--replicas=5', '--current-replicas=3']);
  expect(stale.code).toBe(1);
  expect(stale.stderr).toContain('Expected replicas to be 3, was 1');
  expect((await getRs('web')).spec.replicas).toBe(1);
  expect(await mk(['scale', 'rs/web', '--replicas=3', '--dry-run=server'])).toMatchObject({ code: 0, stdout: 'replicaset.apps/web scaled (server dry run)\n' });
  expect((await getRs('web')).spec.replicas).toBe(1);
});

it('scales every set a label selector names', async () => {
  for (const n of ['g1', 'g2']) {
    const f = path.join(dir, `${n}.yaml`);
    fs.writeFileSync(f, RS(n, 1, 'batch'));
    expect((await mk(['apply', '-f', f])).code).toBe(0);
  }
  expect(await mk(['scale', 'rs', '-l', 'group=batch', '--replicas=2'])).toMatchObject({ code: 0, stdout: 'replicaset.apps/g1 scaled\nreplicaset.apps/g2 scaled\n' });
  await settled('g1', 2);
  await settled('g2', 2);
  expect((await getRs('web')).spec.replicas).toBe(1);
  const none = await mk(['scale', 'rs', '-l', 'group=nothing', '--replicas=2']);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('no replicasets to scale in namespace default');
  for (const n of ['g1', 'g2']) expect((await mk(['delete', 'rs', n])).code).toBe(0);
});

it('refuses bad input with a clear error and changes nothing', async () => {
  const negative = await mk(['scale', 'rs/web', '--replicas=-1']);
  expect(negative.code).toBe(1);
  expect(negative.stderr).toContain('COUNT must be greater than or equal to 0');
  const pod = await mk(['scale', 'pod/x', '--replicas=2']);
  expect(pod.code).toBe(1);
  expect(pod.stderr).toContain('pods cannot be scaled');
  const missing = await mk(['scale', 'rs/nope', '--replicas=2']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('replicasets "nope" not found');
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, RS('bad', 1).replace('      app: bad\n  template', '      app: other\n  template'));
  const refused = await mk(['apply', '-f', bad]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('`selector` does not match template `labels`');
  expect((await mk(['get', 'rs', 'bad'])).code).toBe(1);
  expect((await getRs('web')).spec.replicas).toBe(1);
});

it('describes a set like kubectl: selector, replicas, pod phases, template and events', async () => {
  const out = await until('described with its events', async () => {
    const r = await mk(['describe', 'rs', 'web']);
    return r.code === 0 && r.stdout.includes('SuccessfulCreate') ? r.stdout : undefined;
  }, 30_000);
  expect(out).toMatch(/^Name: +web$/m);
  expect(out).toMatch(/^Selector: +app=web$/m);
  expect(out).toMatch(/^Replicas: +1 current \/ 1 desired$/m);
  expect(out).toMatch(/^Pods Status: +0 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
  expect(out).toMatch(/^ {6}Image: +busybox:1\.36$/m);
  expect(out).toMatch(/Normal +SuccessfulCreate .*Created pod: web-[a-z0-9]{5}/);
});

it('deletes a set with --cascade=orphan and leaves its pods', async () => {
  const left = (await pods('web')).map((p) => p.metadata.name);
  expect(left).toHaveLength(1);
  expect(await mk(['delete', 'rs', 'web', '--cascade=orphan'])).toMatchObject({ code: 0 });
  await until('web gone and its pod orphaned', async () => {
    const now = await pods('web');
    const rsGone = (await mk(['get', 'rs', 'web'])).code === 1;
    return rsGone && now.length === 1 && !now[0].metadata.ownerReferences ? true : undefined;
  }, 30_000);
  expect((await pods('web')).map((p) => p.metadata.name)).toEqual(left);
});
