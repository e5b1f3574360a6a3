/**
 * The built CLI with the history of stateful sets and daemon sets against a real nats-server and
 * control plane: `mk rollout history sts/NAME` and `ds/NAME` (REVISION and CHANGE-CAUSE, and one
 * revision's template with --revision), `mk rollout undo` (rolled back, skipped, no such revision,
 * no earlier revision) with kubectl's messages and exit codes, `mk get controllerrevisions`,
 * `mk describe controllerrevision`, and pause refused for a stateful set. Nodes are objects in the
 * store and a loop plays their agents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, type Bus } from '../../../bus';
import { objectKey, type ControllerRevision, type Pod, type StatefulSet } from '../../../messages';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';
import type { NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(180_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dir: string;
let nodes: NodeLoop | undefined;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const STS = (image: string, cause: string) => `apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n`
  + `  annotations:\n    kubernetes.io/change-cause: ${cause}\n`
  + 'spec:\n  serviceName: web\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n'
  + `    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;
const DS = (image: string) => 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n'
  + 'spec:\n  selector:\n    matchLabels:\n      app: agent\n  template:\n    metadata:\n      labels:\n        app: agent\n'
  + `    spec:\n      containers:\n        - name: agent\n          image: ${image}\n`;
const applied = async (name: string, yaml: string) => {
  const f = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(f, yaml);
  const r = await mk(['apply', '-f', f]);
  expect(r).toMatchObject({ code: 0 });
};
const podsOf = async (prefix: string) => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.name.startsWith(`${prefix}-`) && !p.metadata.deletionTimestamp);
const revisions = async (owner: string) => (await store.list<ControllerRevision>('controllerrevisions.default.>')).items.map((i) => i.object)
  .filter((r) => r.metadata.ownerReferences?.some((o) => o.name === owner)).sort((a, b) => a.revision - b.revision);
/** Waits until every pod with the prefix runs `image` and there are `n` of them. */
const allAt = (prefix: string, image: string, n: number) => until(`${prefix} at ${image}`, async () => {
  const pods = await podsOf(prefix);
  return pods.length === n && pods.every((p) => p.spec.containers[0].image === image && p.status?.phase === 'Running') ? pods : undefined;
}, 60_000);

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('revisions'));
  for (const n of ['n1', 'n2']) await putNode(store, fakeNode(n));
  nodes = playNodes(store);
}, 300_000);

afterAll(async () => {
  await nodes?.stop();
  await stopCliCluster({ cp, bus, server, dir });
});

describe('a stateful set', () => {
  it('lists its revisions with their change-cause, and prints one revision\'s template', async () => {
    await applied('web', STS('busybox:1.36', 'first'));
    await allAt('web', 'busybox:1.36', 2);
    await applied('web', STS('busybox:1.37', 'second'));
    await allAt('web', 'busybox:1.37', 2);
    expect(await mk(['rollout', 'history', 'sts/web'])).toEqual({
      code: 0, stderr: '', stdout: 'statefulset.apps/web\nREVISION   CHANGE-CAUSE\n1          first\n2          second\n',
    });
    const one = await mk(['rollout', 'history', 'statefulset/web', '--revision=1']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^statefulset\.apps\/web with revision #1\nPod Template:\n {2}Labels:\s+app=web\n {2}Containers:\n {3}web:\n {4}Image:\s+busybox:1\.36\n$/);
    expect(await mk(['rollout', 'history', 'sts/web', '--revision=7'])).toMatchObject({ code: 1, stderr: 'error: unable to find the specified revision 7\n' });
  });

  it('lists and describes its revisions with mk get and mk describe', async () => {
    const revs = await revisions('web');
    const table = await mk(['get', 'controllerrevisions']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE$/);
    for (const r of revs) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${r.metadata.name}\\s+statefulset\\.apps/web\\s+${r.revision}\\s+\\S+$`)));
    }
    const described = await mk(['describe', 'controllerrevision', revs[0].metadata.name]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(new RegExp(`^Name:\\s+${revs[0].metadata.name}\\n`));
    expect(described.stdout).toMatch(/Revision:\s+1\n/);
    expect(described.stdout).toMatch(/busybox:1\.36/);
  });

  it('rolls back to the previous revision, which is renumbered, and skips a rollback to the template it has', async () => {
    const [first] = await revisions('web');
    expect(await mk(['rollout', 'undo', 'sts/web'])).toEqual({ code: 0, stdout: 'statefulset.apps/web rolled back\n', stderr: '' });
    await allAt('web', 'busybox:1.36', 2);
    const after = await until('revision 1 renumbered 3', async () => {
      const revs = await revisions('web');
      return revs.find((r) => r.metadata.name === first.metadata.name)?.revision === 3 ? revs : undefined;
    }, 30_000);
    expect(after.map((r) => r.revision)).toEqual([2, 3]);
    const sts = (await store.get<StatefulSet>(objectKey('statefulsets', 'default', 'web')))!.object;
    expect(sts.status?.updateRevision).toBe(first.metadata.name);
    expect((await mk(['rollout', 'history', 'sts/web'])).stdout).toBe('statefulset.apps/web\nREVISION   CHANGE-CAUSE\n2          second\n3          first\n');
    expect(await mk(['rollout', 'undo', 'sts/web', '--to-revision=3'])).toEqual({
      code: 0, stderr: '', stdout: 'statefulset.apps/web skipped rollback (current template already matches revision 3)\n',
    });
    expect(await mk(['rollout', 'undo', 'sts/web', '--to-revision=9'])).toMatchObject({ code: 1, stderr: 'error: unable to find specified revision 9 in history\n' });
  });

  it('refuses pause and resume as kubectl does', async () => {
    expect(await mk(['rollout', 'pause', 'sts/web'])).toMatchObject({ code: 1, stderr: 'error: statefulsets.apps "web" pausing is not supported\n' });
    expect(await mk(['rollout', 'resume', 'sts/web'])).toMatchObject({ code: 1, stderr: 'error: statefulsets.apps "web" resuming is not supported\n' });
  });
});

describe('a daemon set', () => {
  it('has no earlier revision to go back to at first, then rolls back to one', async () => {
    await applied('agent', DS('busybox:1.36'));
    await allAt('agent', 'busybox:1.36', 2);
    expect(await mk(['rollout', 'history', 'ds/agent'])).toEqual({ code: 0, stderr: '', stdout: 'daemonset.apps/agent\nREVISION   CHANGE-CAUSE\n1          <none>\n' });
    expect(await mk(['rollout', 'undo', 'ds/agent'])).toMatchObject({ code: 1, stderr: 'error: no last revision to roll back to\n' });
    await applied('agent', DS('busybox:1.37'));
    await allAt('agent', 'busybox:1.37', 2);
    expect((await mk(['rollout', 'history', 'daemonset/agent'])).stdout).toBe('daemonset.apps/agent\nREVISION   CHANGE-CAUSE\n1          <none>\n2          <none>\n');
    expect(await mk(['rollout', 'undo', 'ds/agent', '--to-revision=1'])).toEqual({ code: 0, stdout: 'daemonset.apps/agent rolled back\n', stderr: '' });
    await allAt('agent', 'busybox:1.36', 2);
    await until('revision 1 renumbered 3', async () => ((await revisions('agent')).map((r) => r.revision).join(',') === '2,3' ? true : undefined), 30_000);
    const tpl = await mk(['rollout', 'history', 'ds/agent', '--revision=3']);
    expect(tpl.stdout).toMatch(/^daemonset\.apps\/agent with revision #3\n[\s\S]*Image:\s+busybox:1\.36\n$/);
  });

  it('goes with its set, as the stateful set\'s do', async () => {
    expect((await mk(['delete', 'ds/agent'])).code).toBe(0);
    expect((await mk(['delete', 'sts/web'])).code).toBe(0);
    await until('revisions gone', async () => ((await revisions('agent')).length + (await revisions('web')).length === 0 ? true : undefined), 30_000);
  });
});
