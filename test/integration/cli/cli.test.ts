/**
 * The built CLI against a real nats-server (with auth) and a fake api served in the test: output,
 * exit codes, and that bad input makes no api call.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, EventRecorder, type Bus } from '../../../bus';
import type { KubeObject } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { DEFAULT_TERMINATION_MS, serveFakeApi, type FakeApi } from './fake-api';
import { ensureBuilt, runCli, type CliResult } from './run-cli';

jest.setTimeout(60_000);

const NODE = 'n1';
const USER = 'admin';
const PASS = 'test-password-0123456789';
let server: NatsServer;
let bus: Bus;
let api: FakeApi;
let dataDir: string;

const POD = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels:\n    app: ${name}\nspec:\n  containers:\n    - name: web\n      image: busybox${extra}\n`;

const mk = (args: string[], stdin?: string): Promise<CliResult> => runCli(args, { env: { MK_HOME: dataDir }, stdin });
const apiCalls = (): number => api.calls.filter((c) => c.subject.startsWith('mk.api.') && c.subject !== 'mk.api.ping').length;
const file = (name: string, text: string): string => {
  const p = path.join(dataDir, name);
  fs.writeFileSync(p, text);
  return p;
};

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'fake-api' });
  api = serveFakeApi(bus, NODE);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-it-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: NODE }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await api?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  api.objects.clear();
  api.calls.length = 0;
  api.terminationMs = DEFAULT_TERMINATION_MS;
});

describe('mk apply', () => {
  it('creates, then reports unchanged and configured like kubectl', async () => {
    const f = file('two.yaml', `${POD('a')}---\n${POD('b')}`);
    expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'pod/a created\npod/b created\n', stderr: '' });
    expect((await mk(['apply', '-f', f])).stdout).toBe('pod/a unchanged\npod/b unchanged\n');
    const changed = file('two.yaml', `${POD('a', ':1.36')}---\n${POD('b')}`);
    expect((await mk(['apply', '-f', changed])).stdout).toBe('pod/a configured\npod/b unchanged\n');
  });

  it('reads stdin and applies -n to objects without a namespace', async () => {
    const r = await mk(['apply', '-f', '-', '-n', 'team'], POD('s'));
    expect(r).toMatchObject({ code: 0, stdout: 'pod/s created\n' });
    expect(api.objects.get('pods/team/s')).toBeDefined();
  });

  it('makes no api call when any document is invalid', async () => {
    const f = file('mixed.yaml', `${POD('good')}---\n${POD('Bad_Name')}`);
    const r = await mk(['apply', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: error validating ".*mixed\.yaml" \(document 2\): Pod "Bad_Name" is invalid/);
    expect(apiCalls()).toBe(0);
  });

  it('makes no api call for malformed YAML and names the file and line', async () => {
    const f = file('broken.yaml', `${POD('good')}---\nkind: Pod\nmetadata:\n  name: [x\n`);
    const r = await mk(['apply', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: error parsing .*broken\.yaml: line \d+, column \d+: /);
    expect(apiCalls()).toBe(0);
  });

  it('refuses an unknown field in strict mode and warns with --validate=warn', async () => {
    const f = file('extra.yaml', POD('w', '\n      imagePolicy: x'));
    const strict = await mk(['apply', '-f', f]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('unknown field "spec.containers[0].imagePolicy"');
    expect(apiCalls()).toBe(0);
    const warn = await mk(['apply', '-f', f, '--validate=warn']);
    expect(warn).toEqual({ code: 0, stdout: 'pod/w created\n', stderr: 'Warning: unknown field "spec.containers[0].imagePolicy"\n' });
  });

  it('refuses a namespace that contradicts -n', async () => {
    const f = file('ns.yaml', POD('x').replace('  name: x\n', '  name: x\n  namespace: other\n'));
    const r = await mk(['apply', '-f', f, '-n', 'team']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the namespace from the provided object "other" does not match the namespace "team"');
    expect(apiCalls()).toBe(0);
  });
});

describe('mk get', () => {
  beforeEach(async () => {
    await mk(['apply', '-f', '-'], `${POD('a')}---\n${POD('b')}`);
    await mk(['apply', '-f', '-', '-n', 'kube-system'], POD('sys'));
  });

  it('prints the aligned pod table', async () => {
    const r = await mk(['get', 'pods']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('NAME   READY   STATUS    RESTARTS   AGE');
    expect(lines[1].replace(/\d+s$/, 'AGE')).toBe('a      1/1     Running   0          AGE');
    expect(lines).toHaveLength(3);
  });

  it('adds NAMESPACE with -A and IP and NODE with -o wide', async () => {
    const r = await mk(['get', 'po', '-A', '-o', 'wide']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual(['default/a', 'default/b', 'kube-system/sys']);
    expect(lines[1]).toContain('10.244.0.9   n1');
  });

  it('prints one object as itself and several as a List in json and yaml', async () => {
    const one = JSON.parse((await mk(['get', 'pod', 'a', '-o', 'json'])).stdout);
    expect(one).toMatchObject({ kind: 'Pod', metadata: { name: 'a', namespace: 'default' } });
    const list = JSON.parse((await mk(['get', 'pods', '-o', 'json'])).stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['a', 'b']);
    const yaml = (await mk(['get', 'pods', '-o', 'yaml', '-l', 'app=b'])).stdout;
    expect(yaml.startsWith('apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n')).toBe(true);
    expect(yaml).toContain('    name: b\n');
    expect((await mk(['get', 'pods', '-o', 'name'])).stdout).toBe('pod/a\npod/b\n');
  });

  it('reports a missing object as NotFound with exit 1, after the ones found', async () => {
    const r = await mk(['get', 'pods', 'a', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^NAME\s+READY.*\na\s+1\/1/);
    expect(r.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });

  it('says "No resources found" on stderr with exit 0 for an empty namespace', async () => {
    expect(await mk(['get', 'pods', '-n', 'empty'])).toEqual({ code: 0, stdout: '', stderr: 'No resources found in empty namespace.\n' });
  });

  it('refuses unknown kinds and flags', async () => {
    expect(await mk(['get', 'widgets'])).toEqual({ code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "widgets"\n' });
    const r = await mk(['get', 'pods', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Nonexistent flag: --bogus/);
  });
});

describe('mk describe', () => {
  it('describes a pod in kubectl\'s sections', async () => {
    await mk(['apply', '-f', '-'], POD('d'));
    const r = await mk(['describe', 'pod', 'd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+d\nNamespace:\s+default\nNode:\s+n1\/127\.0\.0\.1\n/);
    expect(r.stdout).toContain('Containers:\n  web:\n    Container ID:');
    expect(r.stdout).toMatch(/State:\s+Running\n/);
    expect(r.stdout).toMatch(/Events:\s+<none>\n$/);
  });

  it('lists the pod\'s events in kubectl\'s table, and mk events / get events show them', async () => {
    await mk(['apply', '-f', '-'], POD('evp'));
    const pod = api.objects.get('pods/default/evp') as KubeObject;
    const rec = new EventRecorder(bus, { component: 'mk-node', host: NODE });
    rec.record(pod, 'Normal', 'Started', 'Started container web');
    rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container web in pod evp_default(x)');
    rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container web in pod evp_default(x)');
    rec.record({ ...pod, metadata: { ...pod.metadata, name: 'other', uid: 'uid-other' } }, 'Normal', 'Started', 'Started container x');
    await rec.flush();
    const d = await mk(['describe', 'pod', 'evp']);
    expect(d.stdout).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----\s+------\s+----\s+----\s+-------\n/);
    expect(d.stdout).toMatch(/Normal\s+Started\s+\d+s\s+mk-node\s+Started container web\n/);
    expect(d.stdout).toMatch(/Warning\s+BackOff\s+\d+s \(x2 over \d+s\)\s+mk-node\s+Back-off restarting/);
    expect(d.stdout).not.toContain('container x');
    const g = await mk(['get', 'events']);
    expect(g.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    expect(g.stdout).toMatch(/Normal\s+Started\s+pod\/other\s+Started container x/);
    const e = await mk(['events', '--for', 'pod/evp']);
    expect(e.code).toBe(0);
    expect(e.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{3,}/)[2])).toEqual(['Started', 'BackOff']);
    expect((await mk(['events', '-n', 'kube-system'])).stderr).toBe('No events found in kube-system namespace.\n');
  });

  it('fails with NotFound for a missing pod', async () => {
    expect(await mk(['describe', 'pod', 'ghost'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "ghost" not found\n' });
  });
});

describe('mk delete', () => {
  const marked = (name: string): KubeObject | undefined => {
    const o = api.objects.get(`pods/default/${name}`);
    return o?.metadata.deletionTimestamp ? o : undefined;
  };
  /** mk.api.get requests made after the first mk.api.delete: the CLI's polls for the object. */
  const pollsAfterDelete = (): number => {
    const i = api.calls.findIndex((c) => c.subject === 'mk.api.delete');
    return i < 0 ? 0 : api.calls.slice(i + 1).filter((c) => c.subject === 'mk.api.get').length;
  };

  it('deletes and waits until the object is gone', async () => {
    await mk(['apply', '-f', '-'], POD('x'));
    expect(await mk(['delete', 'pod', 'x'])).toEqual({ code: 0, stdout: 'pod "x" deleted\n', stderr: '' });
    expect(api.objects.size).toBe(0);
  });

  it('keeps waiting while a pod is only marked, and exits once it is gone', async () => {
    api.terminationMs = undefined;
    await mk(['apply', '-f', '-'], POD('x'));
    let exited = false;
    const del = mk(['delete', 'pod', 'x']).finally(() => { exited = true; });
    // The pod is marked, and the CLI has found it still there more than once: it is waiting.
    await until('mk delete polling the marked pod', () => (marked('x') && pollsAfterDelete() >= 2 ? true : undefined), 20_000);
    expect(exited).toBe(false);
    expect(marked('x')?.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(api.finishTerminating()).toEqual(['pods/default/x']);
    expect(await del).toEqual({ code: 0, stdout: 'pod "x" deleted\n', stderr: '' });
    expect(api.objects.size).toBe(0);
  });

  it('does not wait with --wait=false: the pod is still terminating when it exits', async () => {
    api.terminationMs = undefined;
    await mk(['apply', '-f', '-'], POD('y'));
    expect(await mk(['delete', 'pod', 'y', '--wait=false'])).toEqual({ code: 0, stdout: 'pod "y" deleted\n', stderr: '' });
    expect(marked('y')).toBeDefined();
    // (mk apply reads the live object first, as kubectl's apply does; the delete itself never polls.)
    expect(pollsAfterDelete()).toBe(0);
  });

  it('reports a pod still there at --timeout and exits 1', async () => {
    api.terminationMs = undefined;
    await mk(['apply', '-f', '-'], POD('z'));
    const t0 = Date.now();
    expect(await mk(['delete', 'pod', 'z', '--timeout', '1'])).toEqual({
      code: 1, stdout: 'pod "z" deleted\n', stderr: 'error: timed out waiting for the deletion of pods/z\n',
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(marked('z')).toBeDefined();
  });

  it('removes a pod at once with grace period 0, and does not wait with --force', async () => {
    api.terminationMs = undefined;
    await mk(['apply', '-f', '-'], `${POD('g')}---\n${POD('f')}`);
    expect(await mk(['delete', 'pod', 'g', '--grace-period', '0'])).toEqual({ code: 0, stdout: 'pod "g" deleted\n', stderr: '' });
    expect(api.objects.has('pods/default/g')).toBe(false);
    const forced = await mk(['delete', 'pod', 'f', '--force']);
    expect(forced).toMatchObject({ code: 0, stdout: 'pod "f" force deleted\n' });
    expect(forced.stderr).toMatch(/^Warning: Immediate deletion does not wait/);
    expect(api.objects.size).toBe(0);
  });

  it('deletes what a file names', async () => {
    const f = file('del.yaml', `${POD('p1')}---\n${POD('p2')}`);
    await mk(['apply', '-f', f]);
    expect(await mk(['delete', '-f', f, '--now'])).toEqual({ code: 0, stdout: 'pod "p1" deleted\npod "p2" deleted\n', stderr: '' });
    expect(api.calls.filter((c) => c.subject === 'mk.api.delete').map((c) => (c.req as { gracePeriodSeconds?: number }).gracePeriodSeconds)).toEqual([1, 1]);
    expect(api.objects.size).toBe(0);
  });

  it('fails for a missing object unless --ignore-not-found', async () => {
    expect(await mk(['delete', 'pod', 'ghost'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "ghost" not found\n' });
    expect(await mk(['delete', 'pod', 'ghost', '--ignore-not-found'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('mk logs and mk exec', () => {
  beforeEach(async () => { await mk(['apply', '-f', '-'], POD('web')); });

  it('prints the log from the pod\'s node', async () => {
    expect(await mk(['logs', 'web', '--tail', '5'])).toEqual({ code: 0, stdout: 'log of web/web\nline 2\n', stderr: '' });
    const req = api.calls.find((c) => c.subject === `mk.node.${NODE}.logs`)?.req;
    expect(req).toEqual({ namespace: 'default', pod: 'web', container: 'web', tailLines: 5 });
  });

  it('follows a log stream until eof', async () => {
    expect(await mk(['logs', '-f', 'web'])).toEqual({ code: 0, stdout: 'first\nsecond\n', stderr: '' });
  });

  it('rejects an unknown container like kubectl', async () => {
    expect(await mk(['logs', 'web', '-c', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'error: container nope is not valid for pod web\n' });
  });

  it('runs a command and exits with its exit code', async () => {
    expect(await mk(['exec', 'web', '--', 'ls', '-l', '/'])).toEqual({ code: 0, stdout: 'ran ls -l / in web\n', stderr: '' });
    expect(await mk(['exec', 'web', '--', 'false'])).toEqual({ code: 3, stdout: 'ran false in web\n', stderr: 'it failed\ncommand terminated with exit code 3\n' });
  });
});

describe('without a bus', () => {
  it('says the bus cannot be reached and exits 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const dead = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-dead-'));
    try {
      fs.writeFileSync(path.join(dead, 'config.json'), JSON.stringify({ servers: [`nats://127.0.0.1:${port}`], user: USER, pass: PASS, nodeName: NODE }));
      const r = await runCli(['get', 'pods', '--data-dir', dead]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^error: cannot reach the bus at nats://127\\.0\\.0\\.1:${port}.*\\(is the cluster up\\? run \`mk up\`\\)\\n$`));
      expect(await runCli(['down', '--data-dir', dead])).toEqual({ code: 0, stdout: `mk is not running (data dir ${dead}).\n`, stderr: '' });
    } finally {
      fs.rmSync(dead, { recursive: true, force: true });
    }
  });

  it('says there is no context when the data dir has none', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-empty-'));
    try {
      const r = await runCli(['get', 'pods'], { env: { MK_HOME: empty } });
      expect(r).toEqual({ code: 1, stdout: '', stderr: `error: no cluster context at ${empty}/config.json (is the cluster up? run \`mk up\`, or pass --data-dir)\n` });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('mk up refusing to start', () => {
  let home: string;
  beforeEach(() => { home = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-up-')); });
  afterEach(() => { fs.rmSync(home, { recursive: true, force: true }); });

  it('says when nats-server cannot be found, and starts nothing', async () => {
    const r = await runCli(['up', '--data-dir', home, '--no-demo'], { env: { MK_NATS_SERVER: '/nonexistent/nats-server' } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: MK_NATS_SERVER=/nonexistent/nats-server is not an executable file\n' });
    expect(fs.existsSync(path.join(home, 'run', 'up.pid'))).toBe(false);
  });

  it('says when the bus port is taken (after writing credentials, config and context)', async () => {
    const r = await runCli(['up', '--data-dir', home, '--no-demo', '--port', String(server.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: port ${server.port} on 127.0.0.1 is already in use (another nats-server?); pick another with --port\n`);
    expect(fs.existsSync(path.join(home, 'run', 'up.pid'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'))).toMatchObject({ servers: [`nats://127.0.0.1:${server.port}`], user: 'admin' });
    expect(fs.statSync(path.join(home, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(home, 'nats', 'nats.conf'), 'utf8')).toContain(`listen: "127.0.0.1:${server.port}"`);
  });

  it('down --purge on a stopped data dir deletes it; refuses a directory that is not mk\'s', async () => {
    fs.writeFileSync(path.join(home, 'config.json'), '{}');
    expect(await runCli(['down', '--purge', '--data-dir', home])).toEqual({ code: 0, stdout: `mk is not running (data dir ${home}).\nDeleted ${home}.\n`, stderr: '' });
    expect(fs.existsSync(home)).toBe(false);
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'precious.txt'), 'x');
    const r = await runCli(['down', '--purge', '--data-dir', home]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not look like an mk data directory');
    expect(fs.existsSync(path.join(home, 'precious.txt'))).toBe(true);
  });
});
