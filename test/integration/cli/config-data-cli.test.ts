/**
 * The built CLI with ConfigMaps and Secrets against a real nats-server and control plane:
 * `mk create configmap|secret` as kubectl's, `mk get cm` and `mk get secret` in kubectl's
 * columns, `-o yaml` showing base64, `mk describe secret` showing sizes only, and bad input
 * refused with a clear error, exit 1 and nothing created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import type { NatsServer } from '../../helpers/nats-server';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

let server: NatsServer;
let cp: ControlPlane;
let dir: string;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });

beforeAll(async () => {
  ({ server, cp, dir } = await startCliCluster('cm'));
  fs.writeFileSync(path.join(dir, 'app.properties'), 'color=blue\n');
}, 300_000);

afterAll(async () => {
  await stopCliCluster({ cp, server, dir });
});

it('creates a ConfigMap from literals and files and lists it as kubectl does', async () => {
  const created = await mk(['create', 'configmap', 'app', '--from-literal=MODE=fast', `--from-file=${path.join(dir, 'app.properties')}`]);
  expect(created).toEqual({ code: 0, stdout: 'configmap/app created\n', stderr: '' });
  const table = await mk(['get', 'cm']);
  const [head, row] = table.stdout.trimEnd().split('\n');
  expect(head.split(/\s{2,}/)).toEqual(['NAME', 'DATA', 'AGE']);
  expect(row.split(/\s{2,}/).slice(0, 2)).toEqual(['app', '2']);
  expect((await mk(['get', 'configmap', 'app', '-o', 'yaml'])).stdout).toContain('app.properties: |\n    color=blue\n');
});

it('creates generic and registry Secrets; -o yaml shows base64 and describe shows sizes only', async () => {
  expect((await mk(['create', 'secret', 'generic', 'db', '--from-literal=password=s3cret'])).stdout).toBe('secret/db created\n');
  expect((await mk(['create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.local:5000', '--docker-username=u', '--docker-password=p']))
    .stdout).toBe('secret/reg created\n');
  const table = await mk(['get', 'secret']);
  const rows = table.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
  expect(rows[0]).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
  expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([['db', 'Opaque', '1'], ['reg', 'kubernetes.io/dockerconfigjson', '1']]);
  const yaml = (await mk(['get', 'secret', 'db', '-o', 'yaml'])).stdout;
  expect(yaml).toContain(`password: ${Buffer.from('s3cret').toString('base64')}`);
  expect(yaml).not.toContain('s3cret');
  const described = await mk(['describe', 'secret', 'db']);
  expect(described.stdout).toMatch(/password:\s+6 bytes/);
  expect(described.stdout).not.toContain('s3cret');
});

it('applies a Secret with stringData twice: stored as data only, unchanged the second time', async () => {
  const f = path.join(dir, 'secret.yaml');
  fs.writeFileSync(f, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\nstringData:\n  token: plain-text-token\n');
  expect((await mk(['apply', '-f', f])).stdout).toBe('secret/applied created\n');
  expect((await mk(['apply', '-f', f])).stdout).toBe('secret/applied unchanged\n');
  const json = (await mk(['get', 'secret', 'applied', '-o', 'json'])).stdout;
  expect(json).not.toContain('plain-text-token');
  expect(JSON.parse(json).data).toEqual({ token: Buffer.from('plain-text-token').toString('base64') });
});

it('prints the object with --dry-run=client -o yaml and creates nothing', async () => {
  const r = await mk(['create', 'secret', 'generic', 'dry', '--from-literal=a=b', '--dry-run=client', '-o', 'yaml']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: dry\ndata:\n  a: ${Buffer.from('b').toString('base64')}\n`);
  expect((await mk(['get', 'secret', 'dry'])).code).toBe(1);
});

it.each([
  [['create', 'configmap', 'bad', '--from-literal=novalue'], 'invalid literal source novalue, expected key=value'],
  [['create', 'configmap', 'bad', '--from-literal=a/b=1'], 'is not a valid key name'],
  [['create', 'configmap', 'bad', '--from-file=/nonexistent/file'], 'no such file or directory'],
  [['create', 'configmap', 'bad', '--from-literal=a=1', '--from-literal=a=2'], 'cannot add key a'],
  [['create', 'secret', 'bad'], 'mk create secret generic NAME'],
  [['create', 'secret', 'generic'], 'give the name of the Secret'],
  [['create', 'secret', 'docker-registry', 'bad', '--docker-password=p'], '--docker-username is required'],
  [['create', 'secret', 'generic', 'bad', '--type=kubernetes.io/tls', '--from-literal=tls.crt=x'], 'must have key "tls.key"'],
])('refuses %j with a clear error and creates nothing', async (args, message) => {
  const r = await mk(args);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(message);
  expect(r.stdout).toBe('');
  expect((await mk(['get', args[1] === 'configmap' ? 'cm' : 'secret', 'bad'])).code).toBe(1);
});
