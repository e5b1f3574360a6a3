/**
 * The built CLI with DaemonSets against a real nats-server and control plane: `mk apply` of a
 * daemon set, `mk get ds` in kubectl's columns (and -o wide), `mk rollout status ds/NAME`,
 * `mk rollout restart ds/NAME` (every node's pod replaced), `mk set image ds/NAME` and bad input
 * (exit 1, the problem named). Two nodes are objects in the store and a loop plays their agents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, type Bus } from '../../../bus';
import type { Pod } from '../../../messages';
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
const DS = (name: string, image: string, extra = '') => `apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ${name}\n`
  + `spec:\n  selector:\n    matchLabels:\n      app: ${name}\n${extra}  template:\n    metadata:\n      labels:\n        app: ${name}\n`
  + `    spec:\n      nodeSelector:\n        role: edge\n      containers:\n        - name: agent\n          image: ${image}\n`;
const podsOf = async (name: string) => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.name.startsWith(`${name}-`) && !p.metadata.deletionTimestamp);

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('ds'));
  for (const n of ['n1', 'n2']) await putNode(store, fakeNode(n, { role: 'edge' }));
  await putNode(store, fakeNode('n3', { role: 'core' }));
  nodes = playNodes(store);
}, 300_000);

afterAll(async () => {
  await nodes?.stop();
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies a daemon set, waits for its rollout and lists it like kubectl get ds', async () => {
  const f = path.join(dir, 'agent.yaml');
  fs.writeFileSync(f, DS('agent', 'busybox:1.36'));
  expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'daemonset.apps/agent created\n', stderr: '' });
  const status = await mk(['rollout', 'status', 'ds/agent', '--timeout=60s']);
  expect(status.code).toBe(0);
  expect(status.stdout.trim().split('\n').pop()).toBe('daemon set "agent" successfully rolled out');
  const table = await mk(['get', 'ds']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+2\s+2\s+2\s+2\s+2\s+role=edge\s+\S+\n$/);
  const wide = await mk(['get', 'daemonsets', '-o', 'wide']);
  expect(wide.stdout).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR\nagent\s+.*\s+agent\s+busybox:1\.36\s+app=agent\n$/);
  expect((await podsOf('agent')).map((p) => p.spec.nodeName).sort()).toEqual(['n1', 'n2']);
});

it('restarts every pod of a daemon set with mk rollout restart', async () => {
  const before = new Set((await podsOf('agent')).map((p) => p.metadata.name));
  expect(await mk(['rollout', 'restart', 'ds/agent'])).toEqual({ code: 0, stdout: 'daemonset.apps/agent restarted\n', stderr: '' });
  expect((await mk(['rollout', 'status', 'daemonset/agent', '--timeout=60s'])).code).toBe(0);
  const after = await until('every pod replaced', async () => {
    const pods = await podsOf('agent');
    return pods.length === 2 && pods.every((p) => !before.has(p.metadata.name)) ? pods : undefined;
  }, 60_000);
  expect(after.every((p) => p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'])).toBe(true);
});

it('sets an image with mk set image ds/NAME, which rolls out to every node', async () => {
  expect(await mk(['set', 'image', 'ds/agent', 'agent=busybox:1.37'])).toEqual({ code: 0, stdout: 'daemonset.apps/agent image updated\n', stderr: '' });
  expect((await mk(['rollout', 'status', 'ds/agent', '--timeout=60s'])).code).toBe(0);
  await until('every pod on busybox:1.37', async () => {
    const pods = await podsOf('agent');
    return pods.length === 2 && pods.every((p) => p.spec.containers[0].image === 'busybox:1.37') ? pods : undefined;
  }, 60_000);
  const unknown = await mk(['set', 'image', 'ds/agent', 'nope=busybox']);
  expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/unable to find container named "nope"/) });
});

it('refuses bad input with exit 1 and the problem named', async () => {
  const f = path.join(dir, 'bad.yaml');
  fs.writeFileSync(f, DS('bad', 'busybox', '  updateStrategy:\n    rollingUpdate:\n      maxSurge: 150%\n'));
  const bad = await mk(['apply', '-f', f]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/maxSurge: Invalid value: "150%": must not be greater than 100%/);
  expect((await mk(['rollout', 'status', 'rs/agent'])).stderr).toMatch(/only deployments, daemonsets and statefulsets do/);
  const missing = await mk(['rollout', 'status', 'ds/nope', '--watch=false']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/not found/);
  fs.writeFileSync(f, DS('manual', 'busybox', '  updateStrategy:\n    type: OnDelete\n'));
  expect((await mk(['apply', '-f', f])).code).toBe(0);
  const onDelete = await mk(['rollout', 'status', 'ds/manual', '--watch=false']);
  expect(onDelete).toMatchObject({ code: 1, stderr: expect.stringMatching(/only available for RollingUpdate strategy type/) });
});
