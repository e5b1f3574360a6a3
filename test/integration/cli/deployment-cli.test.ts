/**
 * The built CLI with Deployments against a real nats-server and control plane: `mk apply` of a
 * deployment, `mk get deploy` in kubectl's columns, `mk rollout status` (its messages, exit 0 when
 * rolled out, exit 1 on a timeout), `mk set image`, `mk rollout history`, `undo`, `restart`,
 * `pause`/`resume`, `mk describe deploy` and bad input. A loop plays the node: it writes the
 * pods Ready, except those labelled ready=never.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, request, type Bus } from '../../../bus';
import { API, objectKey, type Deployment, type GetResult, type ListResult, type Pod } from '../../../messages';
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
const node = { stop: false, done: Promise.resolve() };

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const getDeploy = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'deployments', name })).object as Deployment;
const DEPLOY = (name: string, image: string, extra = '') => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n`
  + `spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: ${name}\n  template:\n    metadata:\n      labels:\n        app: ${name}\n${extra}`
  + `    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;
const rolledOut = (name: string, image: string) => until(`${name} rolled out ${image}`, async () => {
  const d = await getDeploy(name);
  const s = d.status ?? {};
  return d.spec.template.spec.containers[0].image === image && s.observedGeneration === d.metadata.generation
    && s.updatedReplicas === 2 && s.replicas === 2 && s.availableReplicas === 2 ? d : undefined;
}, 60_000);

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('deploy'));
  node.done = (async () => {
    while (!node.stop) {
      const pods = (await request<ListResult>(bus, API.list, { kind: 'pods' })).items as Pod[];
      for (const p of pods) {
        if (p.metadata.deletionTimestamp || p.metadata.labels?.ready === 'never' || p.status?.phase === 'Running') continue;
        await store.mutate<Pod>(objectKey('pods', 'default', p.metadata.name), (cur) => ({
          ...cur, status: { ...cur.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
        })).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
}, 300_000);

afterAll(async () => {
  node.stop = true;
  await node.done;
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies a deployment, waits for its rollout and lists it like kubectl get deploy', async () => {
  const f = path.join(dir, 'web.yaml');
  fs.writeFileSync(f, DEPLOY('web', 'busybox:1.36'));
  expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'deployment.apps/web created\n', stderr: '' });
  const status = await mk(['rollout', 'status', 'deploy/web', '--timeout=60s']);
  expect(status.code).toBe(0);
  expect(status.stdout.trim().split('\n').pop()).toBe('deployment "web" successfully rolled out');
  expect(await mk(['rollout', 'status', 'deploy/web', '--watch=false'])).toMatchObject({ code: 0, stdout: 'deployment "web" successfully rolled out\n' });
  const table = await mk(['get', 'deploy']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\S+\n$/);
});

it('sets an image, shows the history, rolls back and restarts', async () => {
  expect(await mk(['set', 'image', 'deploy/web', 'web=busybox:1.37'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web image updated\n' });
  await rolledOut('web', 'busybox:1.37');
  const history = await mk(['rollout', 'history', 'deploy/web']);
  expect(history.code).toBe(0);
  expect(history.stdout).toMatch(/^deployment\.apps\/web\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n$/);
  const one = await mk(['rollout', 'history', 'deploy/web', '--revision=1']);
  expect(one.code).toBe(0);
  expect(one.stdout).toMatch(/^deployment\.apps\/web with revision #1\nPod Template:\n {2}Labels:\s+app=web,pod-template-hash=\S+\n {2}Containers:\n {3}web:\n {4}Image:\s+busybox:1\.36\n$/);
  expect(await mk(['rollout', 'undo', 'deploy/web'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web rolled back\n' });
  await rolledOut('web', 'busybox:1.36');
  const after = await mk(['rollout', 'history', 'deploy/web']);
  expect(after.stdout).toMatch(/\n2\s+<none>\n3\s+<none>\n$/);
  expect(await mk(['rollout', 'undo', 'deploy/web', '--to-revision=3'])).toMatchObject({
    code: 0, stdout: 'deployment.apps/web skipped rollback (current template already matches revision 3)\n',
  });
  expect(await mk(['rollout', 'restart', 'deploy/web'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web restarted\n' });
  const d = await getDeploy('web');
  expect(d.spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect((await mk(['rollout', 'status', 'deploy/web', '--timeout=60s'])).code).toBe(0);
  const described = await mk(['describe', 'deploy', 'web']);
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/StrategyType:\s+RollingUpdate/);
  expect(described.stdout).toMatch(/NewReplicaSet:\s+web-\S+ \(2\/2 replicas created\)/);
});

it('pauses and resumes, and refuses what it cannot do', async () => {
  expect(await mk(['rollout', 'pause', 'deploy/web'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web paused\n' });
  expect(await mk(['rollout', 'pause', 'deploy/web'])).toMatchObject({ code: 1, stderr: 'error: deployments.apps "web" is already paused\n' });
  expect((await mk(['rollout', 'undo', 'deploy/web'])).code).toBe(1);
  expect(await mk(['rollout', 'resume', 'deploy/web'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web resumed\n' });
  expect(await mk(['scale', 'deploy/web', '--replicas=3'])).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
  await until('web at 3', async () => ((await getDeploy('web')).status?.availableReplicas === 3 ? true : undefined), 30_000);
  expect(await mk(['set', 'image', 'deploy/web', 'nope=x'])).toMatchObject({ code: 1, stderr: 'error: unable to find container named "nope"\n' });
  expect((await mk(['rollout', 'history', 'rs/web'])).stderr).toMatch(/only deployments/);
  expect((await mk(['rollout', 'undo', 'deploy/web', '--to-revision=99'])).stderr).toMatch(/unable to find specified revision 99/);
});

it('rollout status exits 1 on a timeout while pods never become ready', async () => {
  const f = path.join(dir, 'stuck.yaml');
  fs.writeFileSync(f, DEPLOY('stuck', 'busybox:1.36', '        ready: never\n'));
  expect((await mk(['apply', '-f', f])).code).toBe(0);
  const res = await mk(['rollout', 'status', 'deploy/stuck', '--timeout=2s']);
  expect(res.code).toBe(1);
  expect(res.stdout).toMatch(/Waiting for deployment "stuck" rollout to finish: 0 of 2 updated replicas are available\.\.\./);
  expect(res.stderr).toBe('error: timed out waiting for the condition\n');
});
