/**
 * The built CLI's writing commands against a real nats-server and control plane: apply as a
 * three-way merge, create, replace, patch, label, annotate, edit (with an editor script), diff and
 * delete -f, with their dry runs, conflicts and bad input.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, request, type Bus } from '../../../bus';
import { API, LAST_APPLIED_ANNOTATION, type GetResult, type Pod } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

const USER = 'admin';
const PASS = 'test-password-0123456789';
let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dir: string;

const mk = (args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> =>
  runCli(args, { env: { MK_HOME: dir, TMPDIR: path.join(dir, 'tmp'), ...opts.env }, stdin: opts.stdin, timeoutMs: 60_000 });
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const getPod = async (name: string): Promise<Pod | undefined> => {
  try {
    return (await request<GetResult>(bus, API.get, { kind: 'pods', name })).object as Pod;
  } catch {
    return undefined;
  }
};
/** The pod once the scheduler has written its condition (no node fits): nothing else writes it after. */
const settled = (name: string): Promise<Pod> => until(`${name} seen by the scheduler`, async () => {
  const p = await getPod(name);
  return p?.status?.conditions?.some((c) => c.type === 'PodScheduled') ? p : undefined;
}, 15_000);

const POD = (name: string, opts: { image?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): string => {
  const map = (m: Record<string, string> | undefined, key: string) => (m ? `  ${key}:\n${Object.entries(m).map(([k, v]) => `    ${k}: "${v}"\n`).join('')}` : '');
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${map(opts.labels, 'labels')}${map(opts.annotations, 'annotations')}`
    + `spec:\n  containers:\n    - name: web\n      image: ${opts.image ?? 'busybox'}\n`;
};

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-cli-writes' } });
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'cli-writes-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-writes-'));
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('mk apply (three-way merge)', () => {
  it('records the configuration, removes what the file dropped and keeps what others set', async () => {
    const f = file('web.yaml', POD('web', { labels: { app: 'web', tier: 'front' }, annotations: { note: 'one' } }));
    expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'pod/web created\n', stderr: '' });
    const created = await settled('web');
    expect(JSON.parse(created.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '{}')).toMatchObject({ metadata: { name: 'web', labels: { app: 'web', tier: 'front' } } });
    expect((await mk(['apply', '-f', f])).stdout).toBe('pod/web unchanged\n');

    expect((await mk(['label', 'pod', 'web', 'owner=ops'])).stdout).toBe('pod/web labeled\n');
    file('web.yaml', POD('web', { image: 'busybox:1.36', labels: { app: 'web' } }));
    expect(await mk(['apply', '-f', f, '--dry-run=client'])).toMatchObject({ code: 0, stdout: 'pod/web configured (dry run)\n' });
    expect(await mk(['apply', '-f', f, '--dry-run=server'])).toMatchObject({ code: 0, stdout: 'pod/web configured (server dry run)\n' });
    expect((await getPod('web'))?.spec.containers[0].image).toBe('busybox');
    expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'pod/web configured\n', stderr: '' });
    const after = await getPod('web');
    expect(after?.metadata.labels).toEqual({ app: 'web', owner: 'ops' });
    expect(Object.keys(after?.metadata.annotations ?? {})).toEqual([LAST_APPLIED_ANNOTATION]);
    expect(after?.spec.containers[0].image).toBe('busybox:1.36');
    expect(after?.metadata.generation).toBe(2);
    expect(after?.status?.conditions?.some((c) => c.type === 'PodScheduled')).toBe(true);
  });

  it('removes spec fields dropped from the file and keeps the pod CIDR the control plane gave', async () => {
    const node = (spec: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: n9\nspec:\n${spec}`;
    const f = file('node.yaml', node('  unschedulable: true\n  taints:\n    - key: dedicated\n      value: gpu\n      effect: NoSchedule\n'));
    expect((await mk(['apply', '-f', f])).stdout).toBe('node/n9 created\n');
    const getNode = async () => (await request<GetResult>(bus, API.get, { kind: 'nodes', name: 'n9' })).object as { spec: Record<string, unknown> };
    const cidr = (await until('a pod CIDR for n9', async () => (await getNode()).spec.podCIDR as string | undefined, 15_000));
    file('node.yaml', node('  taints:\n    - key: dedicated\n      value: cpu\n      effect: NoSchedule\n'));
    expect((await mk(['apply', '-f', f])).stdout).toBe('node/n9 configured\n');
    const { taints, ...spec } = (await getNode()).spec as { taints: { key: string }[] };
    expect(spec).toEqual({ podCIDR: cidr, podCIDRs: [cidr] });
    // The node never beats, so the control plane may have tainted it unreachable meanwhile: those taints are its own.
    expect(taints.filter((t) => !t.key.startsWith('node.kubernetes.io/'))).toEqual([{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }]);
  });

  it('warns about and adds the annotation on an object created without it', async () => {
    const f = file('plain.yaml', POD('plain'));
    expect((await mk(['create', '-f', f])).stdout).toBe('pod/plain created\n');
    await settled('plain');
    const r = await mk(['apply', '-f', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`is missing the ${LAST_APPLIED_ANNOTATION} annotation`);
    expect((await getPod('plain'))?.metadata.annotations?.[LAST_APPLIED_ANNOTATION]).toBeDefined();
  });
});

describe('mk create and mk replace', () => {
  it('creates, refuses a second create, and stores nothing in a dry run', async () => {
    const f = file('c.yaml', POD('c1'));
    expect(await mk(['create', '-f', f, '--dry-run=server'])).toEqual({ code: 0, stdout: 'pod/c1 created (server dry run)\n', stderr: '' });
    expect(await getPod('c1')).toBeUndefined();
    expect(await mk(['create', '-f', f])).toEqual({ code: 0, stdout: 'pod/c1 created\n', stderr: '' });
    expect(await mk(['create', '-f', f])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (AlreadyExists): pods "c1" already exists\n' });
    expect(await mk(['create', 'namespace', 'team-a'])).toEqual({ code: 0, stdout: 'namespace/team-a created\n', stderr: '' });
    expect((await mk(['create', 'ns', 'team-a'])).stderr).toBe('Error from server (AlreadyExists): namespaces "team-a" already exists\n');
    expect((await mk(['create', 'pod', 'x'])).stderr).toMatch(/^error: mk create makes "pod" only from a file/);
  });

  it('replaces at the resourceVersion in the file and answers Conflict when it is stale', async () => {
    await mk(['create', '-f', file('r.yaml', POD('r1'))]);
    const live = await settled('r1');
    const stale = file('stale.yaml', POD('r1', { image: 'busybox:2' }).replace('  name: r1\n', `  name: r1\n  resourceVersion: "${Number(live.metadata.resourceVersion) - 1}"\n`));
    expect(await mk(['replace', '-f', stale])).toEqual({
      code: 1, stdout: '',
      stderr: 'Error from server (Conflict): Operation cannot be fulfilled on pods "r1": the object has been modified; please apply your changes to the latest version and try again\n',
    });
    expect((await getPod('r1'))?.spec.containers[0].image).toBe('busybox');
    expect(await mk(['replace', '-f', file('fresh.yaml', POD('r1', { image: 'busybox:2' }))])).toEqual({ code: 0, stdout: 'pod/r1 replaced\n', stderr: '' });
    expect((await getPod('r1'))?.spec.containers[0].image).toBe('busybox:2');
    expect((await mk(['replace', '-f', file('none.yaml', POD('nobody'))])).stderr).toBe('Error from server (NotFound): pods "nobody" not found\n');
  });
});

describe('mk patch, label and annotate', () => {
  beforeAll(async () => {
    await mk(['create', '-f', file('p.yaml', POD('p1', { labels: { app: 'p' } }))]);
    await settled('p1');
  });

  it('merge-patches and JSON-patches, says when nothing changed, and dry runs change nothing', async () => {
    expect(await mk(['patch', 'pod', 'p1', '-p', '{"metadata":{"labels":{"x":"1"}}}'])).toEqual({ code: 0, stdout: 'pod/p1 patched\n', stderr: '' });
    expect((await mk(['patch', 'pod/p1', '-p', 'metadata: {labels: {x: "1"}}'])).stdout).toBe('pod/p1 patched (no change)\n');
    const image = '[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.36"}]';
    expect((await mk(['patch', 'pod', 'p1', '--type', 'json', '-p', image, '--dry-run=server'])).stdout).toBe('pod/p1 patched (server dry run)\n');
    expect((await mk(['patch', 'pod', 'p1', '--type', 'json', '-p', image, '--dry-run=client'])).stdout).toBe('pod/p1 patched (dry run)\n');
    expect((await getPod('p1'))?.spec.containers[0].image).toBe('busybox');
    expect((await mk(['patch', 'pod', 'p1', '--type', 'json', '-p', image])).stdout).toBe('pod/p1 patched\n');
    expect((await getPod('p1'))?.spec.containers[0].image).toBe('busybox:1.36');
    // The status subresource takes the status only.
    const status = await mk(['patch', 'pod/p1', '--subresource', 'status', '-p', '{"status":{"message":"hello"},"spec":{"hostname":"h"}}']);
    expect(status.stdout).toBe('pod/p1 patched\n');
    const withStatus = await getPod('p1');
    expect(withStatus?.status).toMatchObject({ message: 'hello' });
    expect(withStatus?.spec.hostname).toBeUndefined();
    // The default type is strategic, as kubectl's: a container is merged by name.
    const strategic = await mk(['patch', 'pod', 'p1', '-p', '{"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}']);
    expect(strategic).toEqual({ code: 0, stdout: 'pod/p1 patched\n', stderr: '' });
    expect((await getPod('p1'))?.spec.containers).toEqual([expect.objectContaining({ name: 'web', image: 'busybox:1.37', imagePullPolicy: 'IfNotPresent' })]);
  });

  it('refuses a patch that does not apply, an unknown field and malformed input, changing nothing', async () => {
    const before = (await getPod('p1'))?.metadata.resourceVersion;
    const test = await mk(['patch', 'pod', 'p1', '--type', 'json', '-p', '[{"op":"test","path":"/metadata/name","value":"zz"}]']);
    expect(test).toMatchObject({ code: 1, stdout: '' });
    expect(test.stderr).toContain('does not apply: the value is "p1", not "zz"');
    const unknown = await mk(['patch', 'pod', 'p1', '-p', '{"spec":{"containers":[{"name":"web","image":"b","imagePolicy":"x"}]}}']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown field "spec.containers[0].imagePolicy"');
    const malformed = await mk(['patch', 'pod', 'p1', '-p', '{"metadata": ']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^error: the patch is neither JSON nor YAML/);
    const stale = await mk(['patch', 'pod', 'p1', '-p', '{"metadata":{"labels":{"y":"2"}}}', '--resource-version', '1']);
    expect(stale.stderr).toContain('Error from server (Conflict): Operation cannot be fulfilled on pods "p1"');
    expect((await getPod('p1'))?.metadata.resourceVersion).toBe(before);
  });

  it('labels and annotates like kubectl: --overwrite to change, key- to remove', async () => {
    const over = await mk(['label', 'pod', 'p1', 'app=q']);
    expect(over).toEqual({ code: 1, stdout: '', stderr: "error: 'app' already has a value (p), and --overwrite is false\n" });
    expect((await mk(['label', 'pod', 'p1', 'app=q', '--overwrite', '--dry-run=server'])).stdout).toBe('pod/p1 labeled (server dry run)\n');
    expect((await getPod('p1'))?.metadata.labels?.app).toBe('p');
    expect((await mk(['label', 'pod', 'p1', 'app=q', 'x-', '--overwrite'])).stdout).toBe('pod/p1 labeled\n');
    expect((await mk(['label', 'pods', 'p1', 'app=q'])).stdout).toBe('pod/p1 not labeled\n');
    expect((await mk(['label', 'pod/p1', 'app-'])).stdout).toBe('pod/p1 unlabeled\n');
    expect((await getPod('p1'))?.metadata.labels).toBeUndefined();
    expect((await mk(['label', 'pod', 'p1', 'Bad Key=1'])).stderr).toMatch(/^error: invalid label "Bad Key=1"/);
    expect((await mk(['annotate', 'pod', 'p1', 'description=the web server, with spaces'])).stdout).toBe('pod/p1 annotated\n');
    expect((await getPod('p1'))?.metadata.annotations?.description).toBe('the web server, with spaces');
    expect((await mk(['annotate', 'pod', 'p1', 'description-'])).stdout).toBe('pod/p1 annotated\n');
    expect((await getPod('p1'))?.metadata.annotations?.description).toBeUndefined();
  });
});

describe('mk edit', () => {
  const editor = (name: string, body: string): string => {
    const p = file(name, `#!/bin/sh\nset -e\n${body}\n`);
    fs.chmodSync(p, 0o755);
    return p;
  };

  beforeAll(async () => {
    await mk(['create', '-f', file('e.yaml', POD('e1'))]);
    await settled('e1');
  });

  it('replaces the object with what the editor saved', async () => {
    const ed = editor('ed-image.sh', 'sed -i "s#image: busybox\\$#image: busybox:1.36#" "$1"');
    expect(await mk(['edit', 'pod', 'e1'], { env: { EDITOR: ed } })).toEqual({ code: 0, stdout: 'pod/e1 edited\n', stderr: '' });
    expect((await getPod('e1'))?.spec.containers[0].image).toBe('busybox:1.36');
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    // KUBE_EDITOR wins over EDITOR; an editor that changes nothing cancels.
    expect(await mk(['edit', 'pod/e1'], { env: { EDITOR: ed, KUBE_EDITOR: 'true' } })).toEqual({ code: 0, stdout: 'Edit cancelled, no changes made.\n', stderr: '' });
  });

  it('keeps a copy of an invalid edit, says why, and exits 1', async () => {
    const ed = editor('ed-bad.sh', 'sed -i "s#^\\(  *\\)image: \\(.*\\)#\\1image: \\2\\n\\1imagePolicy: x#" "$1"');
    const r = await mk(['edit', 'pod', 'e1'], { env: { EDITOR: ed } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown field "spec.containers[0].imagePolicy"');
    const copy = /A copy of your changes has been stored to "([^"]+)"/.exec(r.stderr)?.[1];
    expect(copy && fs.readFileSync(copy, 'utf8')).toContain('imagePolicy: x');
    expect(r.stderr).toContain('error: Edit cancelled, no valid changes were saved.');
    fs.rmSync(copy!);
  });

  it('answers Conflict when the object changed while it was being edited', async () => {
    // The editor changes the object through the api itself before saving its own edit.
    const ed = editor('ed-race.sh', `"${process.execPath}" "${path.resolve(__dirname, '../../../bin/run.js')}" label pod e1 raced=yes\nsed -i "s#image: busybox:1.36#image: busybox:1.37#" "$1"`);
    const r = await mk(['edit', 'pod', 'e1'], { env: { EDITOR: ed } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error from server (Conflict): Operation cannot be fulfilled on pods "e1"');
    const pod = await getPod('e1');
    expect(pod?.metadata.labels?.raced).toBe('yes');
    expect(pod?.spec.containers[0].image).toBe('busybox:1.36');
    for (const f of fs.readdirSync(path.join(dir, 'tmp'))) fs.rmSync(path.join(dir, 'tmp', f));
  });
});

describe('mk diff and mk delete -f', () => {
  it('exits 0 without differences, 1 with a unified diff, 2 on an error', async () => {
    const f = file('d.yaml', POD('d1', { labels: { app: 'd' } }));
    const absent = await mk(['diff', '-f', f]);
    expect(absent.code).toBe(1);
    expect(absent.stdout).toMatch(/^diff -u -N LIVE\/v1\.Pod\.default\.d1 MERGED\/v1\.Pod\.default\.d1\n--- LIVE\/v1\.Pod\.default\.d1\n\+\+\+ MERGED\/v1\.Pod\.default\.d1\n@@ -0,0 \+1,\d+ @@\n/);
    await mk(['apply', '-f', f]);
    await settled('d1');
    expect(await mk(['diff', '-f', f])).toEqual({ code: 0, stdout: '', stderr: '' });
    file('d.yaml', POD('d1', { image: 'busybox:1.36', labels: { app: 'd', tier: 't' } }));
    const changed = await mk(['diff', '-f', f]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('-    image: busybox\n+    image: busybox:1.36\n');
    expect(changed.stdout).toContain('+    tier: t\n');
    expect(changed.stdout).toContain('-  generation: 1\n+  generation: 2\n');
    expect((await getPod('d1'))?.spec.containers[0].image).toBe('busybox');
    const bad = await mk(['diff', '-f', file('bad.yaml', 'apiVersion: v1\nkind: Potato\nmetadata:\n  name: x\n')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown kind "Potato"');
  });

  it('deletes the objects of a manifest, after a dry run that deletes nothing', async () => {
    const f = file('del.yaml', POD('gone'));
    await mk(['create', '-f', f]);
    expect(await mk(['delete', '-f', f, '--dry-run=server'])).toEqual({ code: 0, stdout: 'pod "gone" deleted (server dry run)\n', stderr: '' });
    expect(await mk(['delete', '-f', f, '--dry-run=client'])).toEqual({ code: 0, stdout: 'pod "gone" deleted (dry run)\n', stderr: '' });
    expect(await getPod('gone')).toBeDefined();
    expect(await mk(['delete', '-f', f])).toEqual({ code: 0, stdout: 'pod "gone" deleted\n', stderr: '' });
    expect(await getPod('gone')).toBeUndefined();
  });
});
