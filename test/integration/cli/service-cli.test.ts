/**
 * The built CLI with Services against a real nats-server and control plane: `mk apply` answers
 * with the allocated cluster IP, `mk get svc` prints kubectl's columns (and -o wide's SELECTOR),
 * `mk describe svc` kubectl's fields, `mk expose` makes services from a deployment and a pod
 * (and prints one in a client dry run), and bad input exits 1 naming the problem, writing nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, type Bus } from '../../../bus';
import { objectKey, type Service } from '../../../messages';
import type { NatsServer } from '../../helpers/nats-server';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(180_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dir: string;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const write = (name: string, text: string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const svcOf = async (name: string) => (await store.get<Service>(objectKey('services', 'default', name)))?.object;
const cells = (line: string) => line.trim().split(/\s{2,}/);

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('svc'));
}, 300_000);

afterAll(async () => {
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies services and lists them like kubectl get svc', async () => {
  const f = write('svc.yaml', [
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  selector:\n    app: web\n  ports:\n'
    + '    - name: http\n      port: 80\n      targetPort: 8080\n      nodePort: 30080\n    - name: dns\n      port: 53\n      protocol: UDP\n',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  clusterIP: 10.96.0.20\n  selector:\n    app: db\n  ports:\n    - port: 5432\n',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 443\n',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: ext\nspec:\n  type: ExternalName\n  externalName: db.example.com\n',
  ].join('---\n'));
  expect(await mk(['apply', '-f', f])).toEqual({
    code: 0, stderr: '', stdout: 'service/web created\nservice/db created\nservice/lb created\nservice/ext created\n',
  });
  const web = (await svcOf('web'))!;
  const udpPort = web.spec.ports![1].nodePort!;
  const table = await mk(['get', 'svc']);
  expect(table.code).toBe(0);
  const [head, ...rows] = table.stdout.trimEnd().split('\n');
  expect(cells(head)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  const byName = new Map(rows.map((r) => [cells(r)[0], cells(r).slice(0, 5)]));
  expect(byName.get('web')).toEqual(['web', 'NodePort', web.spec.clusterIP, '<none>', `80:30080/TCP,53:${udpPort}/UDP`]);
  expect(byName.get('db')).toEqual(['db', 'ClusterIP', '10.96.0.20', '<none>', '5432/TCP']);
  expect(byName.get('lb')?.slice(1, 4)).toEqual(['LoadBalancer', (await svcOf('lb'))!.spec.clusterIP, '<pending>']);
  expect(byName.get('ext')).toEqual(['ext', 'ExternalName', '<none>', 'db.example.com', '<none>']);
  const wide = await mk(['get', 'services', 'web', '-o', 'wide']);
  expect(cells(wide.stdout.split('\n')[0])).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  expect(cells(wide.stdout.split('\n')[1]).at(-1)).toBe('app=web');
  const json = await mk(['get', 'svc', 'db', '-o', 'json']);
  expect(JSON.parse(json.stdout).spec).toMatchObject({ clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], type: 'ClusterIP', sessionAffinity: 'None' });
});

it('describes a service like kubectl describe svc, with <none> endpoints when no slices are served', async () => {
  const d = await mk(['describe', 'svc', 'web']);
  expect(d.code).toBe(0);
  const ip = (await svcOf('web'))!.spec.clusterIP!;
  for (const re of [/^Name:\s+web$/m, /^Namespace:\s+default$/m, /^Selector:\s+app=web$/m, /^Type:\s+NodePort$/m, /^IP Family Policy:\s+SingleStack$/m,
    /^IP Families:\s+IPv4$/m, new RegExp(`^IP:\\s+${ip.replace(/\./g, '\\.')}$`, 'm'), /^Port:\s+http\s+80\/TCP$/m, /^TargetPort:\s+8080\/TCP$/m,
    /^NodePort:\s+http\s+30080\/TCP$/m, /^Endpoints:\s+<none>$/m, /^Session Affinity:\s+None$/m, /^External Traffic Policy:\s+Cluster$/m, /^Events:\s+<none>$/m]) {
    expect(d.stdout).toMatch(re);
  }
});

it('exposes a deployment and a pod like kubectl expose', async () => {
  const f = write('deploy.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 0\n  selector:\n    matchLabels:\n      app: api\n'
    + '  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n        - name: c\n          image: busybox\n          ports:\n            - containerPort: 8080\n');
  expect((await mk(['apply', '-f', f])).code).toBe(0);
  expect(await mk(['expose', 'deployment', 'api', '--port=80', '--target-port=8080', '--type=NodePort'])).toEqual({ code: 0, stdout: 'service/api exposed\n', stderr: '' });
  const api = (await svcOf('api'))!;
  expect(api.spec).toMatchObject({ type: 'NodePort', selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
  expect(api.spec.ports![0].nodePort).toBeGreaterThanOrEqual(30000);
  const dry = await mk(['expose', 'deploy/api', '--name=api-dry', '--dry-run=client', '-o', 'yaml']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('kind: Service');
  expect(dry.stdout).toContain('port: 8080');
  expect(await svcOf('api-dry')).toBeUndefined();
  await store.create(objectKey('pods', 'default', 'solo'), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'solo', namespace: 'default', labels: { app: 'solo' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  expect((await mk(['expose', 'pod/solo', '--port=9000', '--cluster-ip=None'])).code).toBe(0);
  expect((await svcOf('solo'))!.spec).toMatchObject({ clusterIP: 'None', selector: { app: 'solo' } });
});

it('refuses bad input with exit 1, naming the problem, and writes nothing', async () => {
  const f = write('bad.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n    - port: 70000\n');
  const bad = await mk(['apply', '-f', f]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  expect(await svcOf('bad')).toBeUndefined();
  const taken = await mk(['apply', '-f', write('taken.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: taken\nspec:\n  clusterIP: 10.96.0.20\n  ports:\n    - port: 1\n')]);
  expect(taken.code).toBe(1);
  expect(taken.stderr).toContain('provided IP is already allocated (to service default/db)');
  expect(await svcOf('taken')).toBeUndefined();
  const noPort = await mk(['expose', 'pod', 'solo', '--name=np']);
  expect(noPort.code).toBe(1);
  expect(noPort.stderr).toContain('couldn\'t find port via --port flag or introspection');
  const wrongKind = await mk(['expose', 'node', 'n1', '--port=80']);
  expect(wrongKind.code).toBe(1);
  expect(wrongKind.stderr).toContain('only deployments, replica sets, pods and services can be exposed');
  const big = await mk(['expose', 'deploy/api', '--name=big', '--port=70000']);
  expect(big.code).toBe(1);
  expect(big.stderr).toContain('70000');
  expect(await svcOf('big')).toBeUndefined();
  expect(await svcOf('np')).toBeUndefined();
});
