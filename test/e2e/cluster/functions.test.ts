/**
 * Functions end to end on a whole `mk up` cluster (nats-server, control plane, gateway, node
 * agent, containerd, CNI, all in a network namespace of the test): MiniK8s's add.py deployed with
 * `mk function deploy` and called through the gateway over HTTP and over NATS (`mk function
 * invoke`), its instance a real pod of the python runtime image the node builds from its own
 * interpreter; a command-style function in node; scale to zero after a short idle time and a cold
 * call that succeeds; an async call whose result `mk function result` shows; MiniK8s's encryption
 * workflow applied and run from examples/workflows as it is; a file trigger on the node running a
 * workflow for a file created in the directory it watches; and the gateway SIGKILLed, restarted
 * by `mk up`'s supervisor, serving again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AsyncResult, FunctionObject, Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..', '..'));

describeE2e('functions on a one-machine cluster', () => {
  let c: TestCluster;
  let scratch: string;
  let url: string;

  const mkOk = async (args: string[]): Promise<string> => {
    const r = await c.mk(args, { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** POSTs `body` to the gateway from inside the cluster's namespace: [status, body]. */
  const post = async (fn: string, body: string): Promise<[number, string]> => {
    const r = await c.run(['curl', '-s', '-m', '120', '-o', '-', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '--data-binary', body, `${url}/function/default/${fn}`]);
    const at = r.stdout.lastIndexOf('\n');
    return [Number(r.stdout.slice(at + 1)), r.stdout.slice(0, at)];
  };
  const getFn = async (name: string): Promise<FunctionObject> => JSON.parse(await mkOk(['get', 'function', name, '-o', 'json'])) as FunctionObject;
  const instances = async (name: string): Promise<Pod[]> =>
    (JSON.parse(await mkOk(['get', 'pods', '-l', `mk.io/function=${name}`, '-o', 'json'])) as { items: Pod[] }).items.filter((p) => !p.metadata.deletionTimestamp);

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-functions-'));
    c = await startCluster();
    const m = /Functions (http:\/\/[0-9.]+:\d+)\/function\//.exec(c.upStdout ?? '');
    if (!m) throw new Error(`mk up printed no gateway URL:\n${c.upStdout}`);
    url = m[1];
  });
  afterAll(async () => {
    await c?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('deploys add.py and calls it from zero over HTTP and over NATS with mk function invoke', async () => {
    expect(await mkOk(['function', 'deploy', 'add', '--runtime', 'python3', '--handler', 'add.handler', '-f', path.join(ROOT, 'examples', 'functions', 'add.py')]))
      .toBe('function.mk.io/add created\n');
    expect(await instances('add')).toEqual([]);
    // The first call waits for an instance: a pod scheduled, its image built on the node, its code mounted and loaded.
    const [status, body] = await post('add', '{"a":1,"b":2}');
    expect([status, JSON.parse(body)]).toEqual([200, { sum: 3 }]);
    expect(JSON.parse(await mkOk(['function', 'invoke', 'add', '--data', '{"a":20,"b":22}']))).toEqual({ sum: 42 });
    const ready = await instances('add');
    expect(ready.length).toBeGreaterThanOrEqual(1);
    expect(ready[0].spec.containers[0].image).toBe('registry.mk.local/mk-runtime-python3:latest');
    const fn = await waitFor('the function\'s status', async () => { const f = await getFn('add'); return (f.status?.readyInstances ?? 0) >= 1 ? f : null; }, 60_000);
    expect(fn.status?.url).toBe(`${url}/function/default/add`);
    expect(await mkOk(['get', 'functions'])).toMatch(/^NAME +RUNTIME +HANDLER +READY +MIN +MAX +AGE\nadd +python3 +add\.handler +\d+\/\d+ +0 +10 +\S+\n$/);
    // Bad input: an unknown function, a body that is not JSON, an event the handler cannot add.
    expect((await post('nothing', '{}'))[0]).toBe(404);
    expect((await post('add', '{not json'))[0]).toBe(400);
    const [failed, error] = await post('add', '{"a":1}');
    expect(failed).toBe(500);
    expect(JSON.parse(error).error).toMatch(/KeyError/);
    expect(JSON.parse((await post('add', '{"a":"1.5","b":2}'))[1])).toEqual({ sum: 3.5 });
    // The instances' logs, each line under its pod: the loader's start, the handler's traceback.
    const logs = await mkOk(['function', 'logs', 'add']);
    expect(logs).toMatch(/^\[pod\/add-[a-z0-9]{5}\/function\] mk-loader: /m);
    expect(logs).toMatch(/KeyError/);
    const unknown = await c.mk(['function', 'logs', 'nothing']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/not found/)]);
  });

  it('queues a call of add.py with mk function invoke --async; mk function result shows its result', async () => {
    const id = (await mkOk(['function', 'invoke', 'add', '--async', '--data', '{"a":2,"b":3}'])).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const result = await waitFor('the async call\'s result', async () => {
      const r = JSON.parse(await mkOk(['function', 'result', id, '-o', 'json'])) as AsyncResult;
      return r.status === 'Succeeded' ? r : null;
    }, 120_000);
    expect(result).toMatchObject({ id, namespace: 'default', name: 'add', status: 'Succeeded', attempts: 1, result: { sum: 5 } });
    const table = (await mkOk(['function', 'result', id])).split('\n');
    expect(table[0]).toMatch(/^ID +FUNCTION +STATUS +ATTEMPTS +AGE$/);
    expect(table[1]).toMatch(new RegExp(`^${id} +add +Succeeded +1 +`));
    expect(table[2]).toBe('Result: {"sum":5}');
    expect(JSON.parse(await mkOk(['function', 'dlq', '-o', 'json']))).toEqual({ items: [] });
  });

  it('runs a command-style function in node, the input as its argument and its stdout the result', async () => {
    const dir = path.join(scratch, 'shout');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'shout.js'), 'const input = JSON.parse(process.argv[2]);\nprocess.stdout.write(JSON.stringify({ loud: String(input.word).toUpperCase() }));\n');
    await mkOk(['function', 'deploy', 'shout', '--runtime', 'node', '--command', 'node shout.js', '-f', dir]);
    const [status, body] = await post('shout', '{"word":"hello"}');
    expect([status, JSON.parse(body)]).toEqual([200, { loud: 'HELLO' }]);
  });

  it('scales to zero after its idle time, then answers a cold call', async () => {
    await mkOk(['function', 'deploy', 'idle', '--runtime', 'python3', '--handler', 'add.handler', '--idle', '3s', '-f', path.join(ROOT, 'examples', 'functions', 'add.py')]);
    expect(JSON.parse((await post('idle', '{"a":2,"b":2}'))[1])).toEqual({ sum: 4 });
    await waitFor('no instance of idle left', async () => ((await instances('idle')).length === 0 ? true : null), 120_000);
    expect((await getFn('idle')).status?.instances ?? 0).toBe(0);
    const none = await c.mk(['function', 'logs', 'idle']);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', expect.stringMatching(/has no running instance/)]);
    const [status, body] = await post('idle', '{"a":3,"b":4}');
    expect([status, JSON.parse(body)]).toEqual([200, { sum: 7 }]);
  });

  it('runs MiniK8s\'s encryption workflow from examples/workflows as it is, on both sides of its IF', async () => {
    const examples = path.join(ROOT, 'examples', 'workflows');
    await mkOk(['apply', '-f', path.join(examples, 'encryption')]);
    // The same answers as its functions called by hand (test/unit/examples-encryption.test.ts).
    for (const [input, output] of [['hello', 'ifmxC'], ['abc', 'bY2']]) {
      const out = await mkOk(['workflow', 'run', '-f', path.join(examples, 'encryption.txt'), '-n', 'encryption', '--input', input, '--wait', '--timeout', '170']);
      expect(JSON.parse(out.trimEnd().split('\n').pop()!)).toBe(output);
    }
    const runs = JSON.parse(await mkOk(['get', 'workflowruns', '-n', 'encryption', '-o', 'json'])) as { items: { status?: { phase?: string } }[] };
    expect(runs.items.map((r) => r.status?.phase)).toEqual(['Succeeded', 'Succeeded']);
    await mkOk(['delete', 'namespace', 'encryption']);
  });

  it('runs a workflow when a file is created in a directory a file trigger watches on the node', async () => {
    const nodes = JSON.parse(await mkOk(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string } }[] };
    const node = nodes.items[0].metadata.name;
    const dir = path.join(scratch, 'drop');
    fs.mkdirSync(dir);
    const manifests = [
      { apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name: 'keep' }, spec: { startAt: 'Keep', states: { Keep: { type: 'Pass', end: true } } } },
      {
        apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'dropped' },
        spec: { source: { file: { node, path: dir, events: ['create'], debounceMs: 200 } }, target: { workflow: 'keep' } },
      },
    ].map((m) => JSON.stringify(m)).join('\n---\n');
    expect((await c.mk(['apply', '-f', '-'], { stdin: manifests })).code).toBe(0);
    type Run = { spec: { input?: { node?: string; path?: string; event?: string; trigger?: string } }; status?: { phase?: string } };
    const runs = async (): Promise<Run[]> => (JSON.parse(await mkOk(['get', 'workflowruns', '-o', 'json'])) as { items: Run[] }).items
      .filter((r) => r.spec.input?.trigger === 'default/dropped');
    // The node starts watching once the control plane tells it of the trigger: a new file each
    // round until one has fired, so no change can fall before the watch.
    let n = 0;
    const fired = await waitFor('a run of the file trigger', async () => {
      fs.writeFileSync(path.join(dir, `in-${++n}.txt`), `file ${n}\n`);
      return waitFor('its run', async () => { const r = await runs(); return r.length > 0 ? r : null; }, 5_000, 250).catch(() => null);
    }, 90_000, 0);
    const input = fired[0].spec.input!;
    expect(input).toMatchObject({ node, event: 'create' });
    expect(path.dirname(input.path!)).toBe(dir);
    const done = await waitFor('the run Succeeded', async () => {
      const r = (await runs()).find((x) => x.spec.input?.path === input.path);
      return r?.status?.phase === 'Succeeded' ? r : null;
    }, 60_000, 250);
    expect(done.spec.input?.path).toBe(input.path);
    await mkOk(['delete', 'trigger', 'dropped']);
    await mkOk(['delete', 'workflow', 'keep']);
  });

  it('serves again after the gateway is SIGKILLed', async () => {
    const gw = c.pidOf(' gateway');
    expect(gw).toBeDefined();
    process.kill(gw!, 'SIGKILL');
    await waitFor('the gateway restarted', async () => { const p = c.pidOf(' gateway'); return p !== undefined && p !== gw ? p : null; }, 60_000);
    const answer = await waitFor('a call through the new gateway', async () => {
      const [status, body] = await post('add', '{"a":5,"b":6}');
      return status === 200 ? body : null;
    }, 60_000, 500);
    expect(JSON.parse(answer)).toEqual({ sum: 11 });
    expect(JSON.parse(await mkOk(['function', 'invoke', 'add', '--data', '{"a":1,"b":1}']))).toEqual({ sum: 2 });
  });
});
