/**
 * The built CLI with workflows against a real nats-server and a control plane (which runs every
 * kind's controller, the WorkflowRun controller among them): `mk workflow run NAME --wait` prints
 * the output as its last line, a run ending in a Fail state exits 1 with its error, `-f` runs a
 * manifest's spec inline and refuses bad MiniK8s text naming the line, a missing Workflow is
 * NotFound, and `mk workflow cancel` stops a run waiting in a 60 s Wait state. Only Pass, Choice,
 * Wait, Succeed and Fail states: no functions are needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { request, type Bus } from '../../../bus';
import { API, type ListResult, type WorkflowRunObject } from '../../../messages';
import type { NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dir: string;

const mk = (args: string[], timeoutMs = 60_000): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs });
const runs = async (): Promise<WorkflowRunObject[]> =>
  (await request<ListResult>(bus, API.list, { kind: 'workflowruns', namespace: 'default' })).items as WorkflowRunObject[];
const getRun = async (name: string): Promise<WorkflowRunObject | undefined> => (await runs()).find((r) => r.metadata.name === name);
const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';
const createdName = (stdout: string): string => /^workflowrun\.mk\.io\/(\S+) created$/m.exec(stdout)?.[1] ?? '';

/** n > 10: `{n, size: "big"}`; otherwise the Fail state Order.TooSmall. */
const CLASSIFY = `apiVersion: mk.io/v1
kind: Workflow
metadata:
  name: classify
spec:
  startAt: Check
  states:
    Check:
      type: Choice
      choices:
        - variable: $.n
          numericGreaterThan: 10
          next: Big
      default: Small
    Big:
      type: Pass
      result: big
      resultPath: $.size
      next: Done
    Done:
      type: Succeed
    Small:
      type: Fail
      error: Order.TooSmall
      cause: n is 10 or less
`;

/** Waits 60 s, then succeeds. */
const SLEEPER = `apiVersion: mk.io/v1
kind: Workflow
metadata:
  name: sleeper
spec:
  startAt: Sleep
  states:
    Sleep:
      type: Wait
      seconds: 60
      next: Done
    Done:
      type: Succeed
`;

beforeAll(async () => {
  ({ server, cp, bus, dir } = await startCliCluster('wf'));
  fs.writeFileSync(path.join(dir, 'workflows.yaml'), `${CLASSIFY}---\n${SLEEPER}`);
  expect(await mk(['apply', '-f', path.join(dir, 'workflows.yaml')]))
    .toEqual({ code: 0, stdout: 'workflow.mk.io/classify created\nworkflow.mk.io/sleeper created\n', stderr: '' });
}, 300_000);

afterAll(async () => {
  await stopCliCluster({ cp, bus, server, dir });
});

it('runs a Workflow by name with --wait and prints its output as the last line', async () => {
  const r = await mk(['workflow', 'run', 'classify', '--input', '{"n":42}', '--wait']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const name = createdName(r.stdout);
  expect(name).toMatch(/^classify-[a-z0-9]{5}$/);
  expect(JSON.parse(lastLine(r.stdout))).toEqual({ n: 42, size: 'big' });
  const run = await getRun(name);
  expect(run?.spec).toEqual({ workflowRef: { name: 'classify' }, input: { n: 42 } });
  expect(run?.status?.phase).toBe('Succeeded');
});

it('exits 1 with the run\'s error when it ends in a Fail state', async () => {
  const r = await mk(['workflow', 'run', 'classify', '--input', '{"n":3}', '--wait']);
  expect(r.code).toBe(1);
  const name = createdName(r.stdout);
  expect(r.stderr).toBe(`Error: run ${name} Failed: Order.TooSmall: n is 10 or less\n`);
  expect((await getRun(name))?.status?.phase).toBe('Failed');
});

it('without --wait prints what it created: kubectl\'s line, -o name, -o json; a word as --input is a string', async () => {
  const plain = await mk(['workflow', 'run', 'sleeper']);
  expect(plain.code).toBe(0);
  expect(plain.stdout).toMatch(/^workflowrun\.mk\.io\/sleeper-[a-z0-9]{5} created\n$/);
  const byName = await mk(['workflow', 'run', 'classify', '--input', '{"n":11}', '-o', 'name']);
  expect(byName.stdout).toMatch(/^workflowrun\.mk\.io\/classify-[a-z0-9]{5}\n$/);
  const json = await mk(['workflow', 'run', 'classify', '--input', 'hello', '-o', 'json']);
  expect(json.code).toBe(0);
  const obj = JSON.parse(json.stdout) as WorkflowRunObject;
  expect(obj).toMatchObject({ kind: 'WorkflowRun', metadata: { namespace: 'default' }, spec: { workflowRef: { name: 'classify' }, input: 'hello' } });
  // A string has no $.n: the Choice fails the run, which the controller records.
  await until('the run with a string input ends', async () => ((await getRun(obj.metadata.name))?.status?.phase === 'Failed' ? true : undefined));
  // The plain run waits in its Wait state; cancelled here so it leaves nothing going.
  const sleeping = createdName(plain.stdout);
  expect((await mk(['workflow', 'cancel', sleeping])).stdout).toBe(`workflowrun.mk.io/${sleeping} cancelled\n`);
});

it('-f runs a Workflow manifest\'s spec inline, named after it', async () => {
  const f = path.join(dir, 'inline.yaml');
  fs.writeFileSync(f, CLASSIFY.replace('name: classify', 'name: inline-classify'));
  const r = await mk(['workflow', 'run', '-f', f, '--input', '{"n":100}', '--wait']);
  expect(r.code).toBe(0);
  const name = createdName(r.stdout);
  expect(name).toMatch(/^inline-classify-[a-z0-9]{5}$/);
  expect(JSON.parse(lastLine(r.stdout))).toEqual({ n: 100, size: 'big' });
  const run = await getRun(name);
  expect(run?.spec.workflowRef).toBeUndefined();
  expect(run?.spec.workflow?.startAt).toBe('Check');
});

it('refuses a missing Workflow and bad MiniK8s text, creating nothing', async () => {
  const before = (await runs()).length;
  expect(await mk(['workflow', 'run', 'missing'])).toEqual({
    code: 1, stdout: '', stderr: 'Error from server (NotFound): workflows.mk.io "missing" not found\n',
  });
  const bad = path.join(dir, 'bad-flow.txt');
  fs.writeFileSync(bad, 'move_right\nIF BIGGER 3 THEN add\nconvert_char\n');
  const r = await mk(['workflow', 'run', '-f', bad]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 2: `));
  expect(await mk(['workflow', 'run', 'classify', '-f', bad])).toMatchObject({ code: 1, stderr: expect.stringMatching(/not both/) });
  expect(await mk(['workflow', 'run'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/give the Workflow to run/) });
  expect((await runs()).length).toBe(before);
});

it('mk workflow cancel stops a run waiting in a 60 s Wait state; the waiting command exits 1 Cancelled', async () => {
  const known = new Set((await runs()).map((r) => r.metadata.name));
  let exitedAt = 0;
  const waiting = mk(['workflow', 'run', 'sleeper', '--wait', '--timeout', '100'], 110_000).then((res) => { exitedAt = Date.now(); return res; });
  const run = await until('the run waits in Sleep', async () => (await runs()).find((r) => !known.has(r.metadata.name)
    && r.spec.workflowRef?.name === 'sleeper' && r.status?.phase === 'Running' && (r.status.currentStates ?? []).length > 0), 30_000);
  const name = run.metadata.name;
  expect(await mk(['workflow', 'cancel', name, '--reason', 'no longer needed']))
    .toEqual({ code: 0, stdout: `workflowrun.mk.io/${name} cancelled\n`, stderr: '' });
  const r = await waiting;
  expect(r.code).toBe(1);
  expect(r.stdout).toBe(`workflowrun.mk.io/${name} created\n`);
  expect(r.stderr).toBe(`Error: run ${name} Cancelled: States.Cancelled: no longer needed\n`);
  const ended = await getRun(name);
  expect(ended?.status?.phase).toBe('Cancelled');
  expect(ended?.spec.cancel).toEqual({ reason: 'no longer needed' });
  // The run's history: cancelled while in Sleep, whose timer never fired and whose next state
  // never began.
  const history = ended?.status?.history ?? [];
  expect(history.map((h) => `${h.type} ${h.path}`)).toEqual(['RunStarted ', 'StateEntered Sleep#1', 'TimerStarted Sleep#1', 'RunCancelled ']);
  // And both the run and the waiting command ended before that timer was due (60 s after it
  // started, as the run recorded it).
  const due = Date.parse(/^wait timer until (\S+)$/.exec(history[2].detail)?.[1] ?? '');
  expect(Date.parse(ended!.status!.completionTime!)).toBeLessThan(due);
  expect(exitedAt).toBeLessThan(due);
  // Again: it has ended, which is no error.
  expect(await mk(['workflow', 'cancel', name])).toEqual({ code: 0, stdout: `workflowrun.mk.io/${name} already ended (Cancelled)\n`, stderr: '' });
  expect(await mk(['workflow', 'cancel', 'nope'])).toEqual({
    code: 1, stdout: '', stderr: 'Error from server (NotFound): workflowruns.mk.io "nope" not found\n',
  });
});

it('--wait gives up after --timeout, saying so, and the run goes on', async () => {
  const r = await mk(['workflow', 'run', 'sleeper', '--wait', '--timeout', '1']);
  expect(r.code).toBe(1);
  const name = createdName(r.stdout);
  expect(r.stderr).toMatch(new RegExp(`^Error: timed out after 1 s waiting for run ${name} \\(still (Pending|Running)\\); it goes on`));
  const still = await getRun(name);
  expect(still?.status?.phase === 'Pending' || still?.status?.phase === 'Running').toBe(true);
  expect((await mk(['workflow', 'cancel', name])).code).toBe(0);
  await until('the timed-out wait\'s run is cancelled', async () => ((await getRun(name))?.status?.phase === 'Cancelled' ? true : undefined));
});

it('--input-file over the inline limit travels through the object store, and so does the output --wait prints', async () => {
  // A Pass state passes its input on: about 1.5 MB in, the same out.
  const input = { items: Array.from({ length: 1500 }, (_, i) => `${i}`.padEnd(1000, '.')) };
  const file = path.join(dir, 'big-input.json');
  fs.writeFileSync(file, JSON.stringify(input));
  fs.writeFileSync(path.join(dir, 'echo.yaml'), 'apiVersion: mk.io/v1\nkind: Workflow\nmetadata:\n  name: echo\nspec:\n  startAt: Same\n  states:\n    Same:\n      type: Pass\n      end: true\n');
  expect((await mk(['apply', '-f', path.join(dir, 'echo.yaml')])).code).toBe(0);
  const e = await mk(['workflow', 'run', 'echo', '--input-file', file, '--wait']);
  expect(e.stderr).toBe('');
  expect(e.code).toBe(0);
  expect(JSON.parse(lastLine(e.stdout))).toEqual(input);
  const run = (await getRun(createdName(e.stdout)))!;
  expect(run.spec.input).toBeUndefined();
  expect(run.spec.inputRef).toEqual({ bucket: 'mk-workflow-payloads', key: expect.stringMatching(/^inputs\/default\/echo-[a-z0-9]{5}\/[0-9a-f-]{36}$/) });
  expect(run.status?.output).toBeUndefined();
  expect(run.status?.outputRef).toEqual({ bucket: 'mk-workflow-payloads', key: `${run.metadata.uid}/output` });
  expect((await mk(['workflow', 'run', 'echo', '--input', '1', '--input-file', file])).stderr).toMatch(/--input-file.*cannot also be provided|cannot also be provided/);
});
