/**
 * The built CLI with Functions against a real nats-server and control plane: `mk function deploy`
 * uploads the code once and creates, updates or leaves the Function; code that does not compile
 * is refused with python's own message and nothing is uploaded or applied; `mk apply` resolves
 * spec.code.path (a dry run uploads nothing); the server refuses a digest its bucket lacks; get, describe and delete work
 * from the generic kind machinery.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getCode, hasCode, openCodeBucket, pack, readArchive, type CodeBucket } from '../../../bus/function-code';
import { objectKey, type FunctionObject } from '../../../messages';
import { startCliCluster, stopCliCluster, type CliCluster } from './cli-cluster';
import { ROOT, runCli, type CliResult } from './run-cli';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(120_000);

let cluster: CliCluster;
let bucket: CodeBucket;
let work: string;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: cluster.dir }, timeoutMs: 60_000 });
const stored = async (name: string): Promise<FunctionObject | undefined> =>
  (await cluster.store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object;
const ADD = path.join(ROOT, 'examples', 'functions', 'add.py');

beforeAll(async () => {
  cluster = await startCliCluster('fn');
  bucket = await openCodeBucket(cluster.bus.nc);
  work = path.join(cluster.dir, 'work');
  fs.mkdirSync(work);
}, 300_000);

afterAll(async () => {
  await stopCliCluster(cluster ?? {});
});

describe('mk function deploy', () => {
  it('uploads the code and creates the Function; the same deploy again is unchanged, a new flag configures it', async () => {
    const digest = pack(ADD).digest;
    expect(await hasCode(bucket, digest)).toBe(false);
    const created = await mk(['function', 'deploy', 'add', '--runtime', 'python3', '--handler', 'add.handler', '-f', ADD, '--env', 'MODE=fast', '--timeout', '30s']);
    expect(created).toEqual({ code: 0, stdout: 'function.mk.io/add created\n', stderr: '' });
    const fn = await stored('add');
    expect(fn?.spec).toEqual({
      runtime: 'python3', handler: 'add.handler', code: { digest, size: pack(ADD).size, files: 1 }, env: [{ name: 'MODE', value: 'fast' }],
      timeoutSeconds: 30, concurrency: 1, minInstances: 0, maxInstances: 10, idleSeconds: 60,
    });
    expect(readArchive(await getCode(bucket, digest)).map((e) => e.name)).toEqual(['add.py']);
    const again = await mk(['function', 'deploy', 'add', '--runtime', 'python3', '--handler', 'add.handler', '-f', ADD, '--env', 'MODE=fast', '--timeout', '30s']);
    expect(again).toEqual({ code: 0, stdout: 'function.mk.io/add unchanged\n', stderr: '' });
    const more = await mk(['function', 'deploy', 'add', '--runtime', 'python3', '--handler', 'add.handler', '-f', ADD, '--max', '3']);
    expect(more).toEqual({ code: 0, stdout: 'function.mk.io/add configured\n', stderr: '' });
    expect((await stored('add'))?.spec).toMatchObject({ maxInstances: 3, timeoutSeconds: 60 });
    expect((await stored('add'))?.spec.env).toBeUndefined();
  });

  it('deploys a directory with a command', async () => {
    const dir = path.join(work, 'cmd');
    fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'add.py'), 'import sys\nprint(int(sys.argv[1]) + int(sys.argv[2]))\n');
    fs.writeFileSync(path.join(dir, 'lib', 'util.js'), 'module.exports = { one: 1 };\n');
    const r = await mk(['function', 'deploy', 'adder', '--runtime', 'python3', '--command', 'python add.py', '-f', dir, '--min', '1', '--max', '2']);
    expect(r).toEqual({ code: 0, stdout: 'function.mk.io/adder created\n', stderr: '' });
    expect((await stored('adder'))?.spec).toMatchObject({ command: 'python add.py', code: { files: 2 }, minInstances: 1, maxInstances: 2 });
    expect(fs.existsSync(path.join(dir, '__pycache__'))).toBe(false);
  });

  it('says it is uploading large code, and only when the bucket lacks it', async () => {
    const dir = path.join(work, 'large');
    fs.mkdirSync(dir);
    fs.copyFileSync(ADD, path.join(dir, 'add.py'));
    fs.writeFileSync(path.join(dir, 'data.bin'), Buffer.alloc(2 * 1024 * 1024, 7));
    const args = ['function', 'deploy', 'large', '--runtime', 'python3', '--handler', 'add.handler', '-f', dir];
    const first = await mk(args);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^uploading 2\.0 MiB of code \(2 files, sha256:[0-9a-f]{64}\)\n$/);
    expect(first.stdout).toBe('function.mk.io/large created\n');
    expect(await mk(args)).toEqual({ code: 0, stdout: 'function.mk.io/large unchanged\n', stderr: '' });
  });

  it('refuses code that does not compile with python\'s message, uploading and applying nothing', async () => {
    const dir = path.join(work, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'bad.py'), 'def handler(event:\n    return 1\n');
    const r = await mk(['function', 'deploy', 'bad', '--runtime', 'python3', '--handler', 'bad.handler', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the code does not compile/);
    expect(r.stderr).toMatch(/SyntaxError/);
    expect(r.stderr).toContain('bad.py');
    expect(await stored('bad')).toBeUndefined();
    expect(await hasCode(bucket, pack(dir).digest)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['bad.py']);
  });

  it('refuses javascript that does not parse with node\'s message', async () => {
    const dir = path.join(work, 'badjs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'index.js'), 'exports.handler = (event) => {\n');
    const r = await mk(['function', 'deploy', 'badjs', '--runtime', 'node', '--handler', 'index.handler', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SyntaxError/);
    expect(await stored('badjs')).toBeUndefined();
  });

  it.each([
    [['--runtime', 'ruby', '--handler', 'add.handler', '-f', ADD], 'spec.runtime: Unsupported value: "ruby": supported values: "node", "python3"'],
    [['--runtime', 'python3', '-f', ADD], 'spec.handler: Required value'],
    [['--runtime', 'python3', '--handler', 'add', '-f', ADD], 'spec.handler: Invalid value: "add"'],
    [['--runtime', 'python3', '--handler', 'add.handler', '-f', '/nonexistent/add.py'], 'the code path /nonexistent/add.py does not exist'],
    [['--runtime', 'python3', '--handler', 'add.handler', '-f', ADD, '--env', 'NOVALUE'], 'invalid --env NOVALUE: expected NAME=VALUE'],
    [['--runtime', 'python3', '--handler', 'add.handler', '-f', ADD, '--min', '4', '--max', '2'], 'spec.maxInstances: Invalid value: 2'],
  ])('refuses bad flags %j, naming the problem', async (flags, message) => {
    const r = await mk(['function', 'deploy', 'refused', ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(await stored('refused')).toBeUndefined();
  });
});

describe('mk apply of a Function', () => {
  it('packs and uploads spec.code.path relative to the manifest, then applies the digest', async () => {
    const dir = path.join(work, 'manifests');
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.copyFileSync(ADD, path.join(dir, 'src', 'add.py'));
    const manifest = path.join(dir, 'fn.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: applied\nspec:\n  runtime: python3\n  handler: add.handler\n  code:\n    path: src\n');
    expect(await mk(['apply', '-f', manifest])).toEqual({ code: 0, stdout: 'function.mk.io/applied created\n', stderr: '' });
    const digest = pack(path.join(dir, 'src')).digest;
    expect((await stored('applied'))?.spec.code).toEqual({ digest, size: pack(path.join(dir, 'src')).size, files: 1 });
    expect(await hasCode(bucket, digest)).toBe(true);
    expect(await mk(['apply', '-f', manifest])).toEqual({ code: 0, stdout: 'function.mk.io/applied unchanged\n', stderr: '' });
  });

  it('uploads nothing in a dry run: a server dry run of new code is Not found, a client one resolves the path to its digest', async () => {
    const dir = path.join(work, 'dry');
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'add.py'), 'def handler(event):\n    return {"dry": True}\n');
    const manifest = path.join(dir, 'fn.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: dry\nspec:\n  runtime: python3\n  handler: add.handler\n  code:\n    path: src\n');
    const digest = pack(path.join(dir, 'src')).digest;
    const server = await mk(['apply', '-f', manifest, '--dry-run=server']);
    expect(server.code).toBe(1);
    expect(server.stderr).toContain(`spec.code.digest: Not found: "${digest}"`);
    expect(await mk(['apply', '-f', manifest, '--dry-run=client'])).toEqual({ code: 0, stdout: 'function.mk.io/dry created (dry run)\n', stderr: '' });
    expect(await hasCode(bucket, digest)).toBe(false);
    expect(await stored('dry')).toBeUndefined();
    expect(await mk(['apply', '-f', manifest])).toEqual({ code: 0, stdout: 'function.mk.io/dry created\n', stderr: '' });
    expect(await mk(['apply', '-f', manifest, '--dry-run=client'])).toEqual({ code: 0, stdout: 'function.mk.io/dry unchanged (dry run)\n', stderr: '' });
    expect(await mk(['apply', '-f', manifest, '--dry-run=server'])).toEqual({ code: 0, stdout: 'function.mk.io/dry unchanged (server dry run)\n', stderr: '' });
    fs.writeFileSync(path.join(dir, 'src', 'add.py'), 'def handler(event):\n    return {"dry": False}\n');
    const changed = await mk(['apply', '-f', manifest, '--dry-run=client']);
    expect(changed).toEqual({ code: 0, stdout: 'function.mk.io/dry configured (dry run)\n', stderr: '' });
    expect(await hasCode(bucket, pack(path.join(dir, 'src')).digest)).toBe(false);
  });

  it('refuses a link loop in the code by name', async () => {
    const dir = path.join(work, 'loop');
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.copyFileSync(ADD, path.join(dir, 'src', 'add.py'));
    fs.symlinkSync('.', path.join(dir, 'src', 'a'));
    const manifest = path.join(dir, 'fn.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: loop\nspec:\n  runtime: python3\n  handler: add.handler\n  code:\n    path: src\n');
    const r = await mk(['apply', '-f', manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('src/a: a symbolic link to a directory');
    expect(r.stderr).not.toContain('ELOOP');
    expect(await stored('loop')).toBeUndefined();
  });

  it('applies the example as it is', async () => {
    const r = await mk(['apply', '-f', path.join(ROOT, 'examples', 'functions', 'add.yaml'), '-n', 'default']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^function\.mk\.io\/add (configured|unchanged)\n$/);
    expect((await stored('add'))?.spec).toMatchObject({ handler: 'add.handler', timeoutSeconds: 30, maxInstances: 3, code: { digest: pack(ADD).digest } });
  });

  it('names a missing code path', async () => {
    const manifest = path.join(work, 'missing.yaml');
    fs.writeFileSync(manifest, 'apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: missing\nspec:\n  runtime: node\n  handler: index.handler\n  code:\n    path: nowhere\n');
    const r = await mk(['apply', '-f', manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`spec.code.path nowhere does not exist (looked for ${path.join(work, 'nowhere')})`);
    expect(await stored('missing')).toBeUndefined();
  });

  it('is refused by the server when the bucket lacks the digest it names', async () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const manifest = path.join(work, 'digest.yaml');
    fs.writeFileSync(manifest, `apiVersion: mk.io/v1\nkind: Function\nmetadata:\n  name: ghost\nspec:\n  runtime: node\n  handler: index.handler\n  code:\n    digest: "${digest}"\n    size: 1024\n    files: 1\n`);
    const r = await mk(['apply', '-f', manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`spec.code.digest: Not found: "${digest}"`);
    expect(await stored('ghost')).toBeUndefined();
  });
});

describe('mk get, describe and delete functions', () => {
  it('lists functions in their columns, wide with the short digest', async () => {
    // minInstances 1: the controller makes one instance (no node runs it here, so none is ready).
    await waitFor(async () => (await stored('adder'))?.status?.instances === 1, 'the instance of adder', 20_000);
    const table = await mk(['get', 'functions']);
    const rows = table.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'RUNTIME', 'HANDLER', 'READY', 'MIN', 'MAX', 'AGE']);
    expect(rows.find((r) => r[0] === 'adder')?.slice(0, 6)).toEqual(['adder', 'python3', 'python add.py', '0/1', '1', '2']);
    const wide = await mk(['get', 'fn', 'add', '-o', 'wide']);
    const [head, row] = wide.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(head).toEqual(['NAME', 'RUNTIME', 'HANDLER', 'READY', 'MIN', 'MAX', 'AGE', 'CODE', 'TIMEOUT']);
    expect(row[7]).toBe(pack(ADD).digest.slice(7, 19));
    expect(row[8]).toBe('30s');
  });

  it('describes a function', async () => {
    const r = await mk(['describe', 'function', 'add']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+add$/m);
    expect(r.stdout).toMatch(/^Runtime:\s+python3$/m);
    expect(r.stdout).toMatch(new RegExp(`^  Digest:\\s+${pack(ADD).digest}$`, 'm'));
  });

  it('deletes a function', async () => {
    const r = await mk(['delete', 'function', 'adder']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"adder" deleted');
    expect(await stored('adder')).toBeUndefined();
  });
});
