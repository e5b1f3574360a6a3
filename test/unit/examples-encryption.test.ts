/**
 * MiniK8s's encryption workflow's functions (examples/workflows/encryption: move_right,
 * convert_num, add, subtract, convert_char) through the real python loader: each file is packed
 * and unpacked as `mk apply -f` would store it, loaded by loader.py with its manifest's handler,
 * and called over HTTP. Chained by hand as examples/workflows/encryption.txt says, for inputs on
 * both sides of its IF; bad input is answered 500 with the handler's own message.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { pack, unpack } from '../../bus/code-archive';
import { startLoaderProcess } from '../helpers/loader-process';

jest.setTimeout(30_000);

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples', 'workflows');
const STEPS = ['move-right', 'convert-num', 'add', 'subtract', 'convert-char'] as const;
type Step = typeof STEPS[number];
/** The number in encryption.txt's `IF GREATER 77851361 THEN add ELSE subtract`. */
const THRESHOLD = 77851361;

interface Manifest { metadata: { name: string; namespace: string }; spec: { runtime: string; handler: string; code: { path: string } } }

const children: ChildProcess[] = [];
const dirs: string[] = [];
const urls = new Map<Step, string>();

/** Starts loader.py on the packed code of `step`'s manifest; resolves with its URL once ready. */
async function startStep(step: Step): Promise<string> {
  const manifest = load(fs.readFileSync(path.join(EXAMPLES, 'encryption', `${step}.yaml`), 'utf8')) as Manifest;
  expect(manifest.metadata).toEqual({ name: step, namespace: 'encryption' });
  expect(manifest.spec.runtime).toBe('python3');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-example-${step}-`));
  dirs.push(dir);
  unpack(pack(path.join(EXAMPLES, 'encryption', manifest.spec.code.path)).bytes, dir);
  const loader = await startLoaderProcess('python3', dir, manifest.spec.handler);
  children.push(loader.child);
  return loader.url;
}

/** Calls one step: resolves with the status and the answer. */
async function call(step: Step, event: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${urls.get(step)}/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });
  return { status: r.status, body: await r.json() };
}

/** One step that must answer 200: its answer. */
async function ok(step: Step, event: unknown): Promise<unknown> {
  const r = await call(step, event);
  if (r.status !== 200) throw new Error(`${step} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

beforeAll(async () => {
  for (const step of STEPS) urls.set(step, await startStep(step));
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('the encryption workflow\'s functions', () => {
  it('names the functions the workflow text calls, once "_" reads as "-"', () => {
    const text = fs.readFileSync(path.join(EXAMPLES, 'encryption.txt'), 'utf8');
    expect(text).toBe('move_right\nconvert_num\nIF GREATER 77851361 THEN add ELSE subtract\nconvert_char\n');
    const called = text.split('\n').flatMap((l) => l.split(' ')).filter((w) => /^[a-z_]+$/.test(w)).map((w) => w.replace(/_/g, '-'));
    expect([...new Set(called)].sort()).toEqual([...STEPS].sort());
  });

  it('runs each step as its doc says', async () => {
    expect(await ok('move-right', 'Hello, xyz!')).toBe('Ifmmp, yza!');
    expect(await ok('convert-num', 'ifmmp')).toBe(6006614195);
    expect(await ok('convert-num', '!!')).toBe(96);
    expect(await ok('add', 6006614195)).toBe(6006615195);
    expect(await ok('subtract', 602083)).toBe(601083);
    expect(await ok('convert-char', 6006615195)).toBe('ifmxC');
    expect(await ok('convert-char', 0)).toBe(' ');
    expect(await ok('convert-char', -96)).toBe('-!!');
  });

  it.each([
    ['hello', 'add', 'ifmxC'],
    ['~~~~', 'add', '!  *Q'],
    ['abc', 'subtract', 'bY2'],
    ['zzzz', 'subtract', 'aaW/'],
  ] as [string, Step, string][])('encrypts %j through %s, as the workflow would', async (input, side, expected) => {
    const n = await ok('convert-num', await ok('move-right', input)) as number;
    expect(n > THRESHOLD ? 'add' : 'subtract').toBe(side);
    expect(await ok('convert-char', await ok(side, n))).toBe(expected);
  });

  it.each([
    ['move-right', 42, 'ValueError: move_right: the event must be a JSON string, got int'],
    ['convert-num', 'x'.repeat(9), 'ValueError: convert_num: at most 8 characters, got 9'],
    ['convert-num', 'é', 'ValueError: convert_num: only printable ASCII characters, got \'é\''],
    ['add', 1.5, 'ValueError: add: the event must be a JSON integer, got float'],
    ['subtract', true, 'ValueError: subtract: the event must be a JSON integer, got bool'],
    ['convert-char', '12', 'ValueError: convert_char: the event must be a JSON integer, got str'],
  ] as [Step, unknown, string][])('%s refuses %j with 500 and its message', async (step, event, message) => {
    const r = await call(step, event);
    expect(r.status).toBe(500);
    expect((r.body as { error: string }).error).toBe(message);
  });
});
