/**
 * The cipher chain of examples/functions (move_right, convert_num, add_key, subtract_key,
 * convert_char) through the real python loader: each file is packed and unpacked as `mk function
 * deploy -f FILE` would store it, loaded by loader.py with its manifest's handler, and called over
 * HTTP. Encrypting then decrypting gives the text back; bad input is answered 500 with the
 * handler's own message (`ValueError: <function>: ...`).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { pack, unpack } from '../../bus/code-archive';
import { startLoaderProcess } from '../helpers/loader-process';

jest.setTimeout(30_000);

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples', 'functions');
const STEPS = ['move-right', 'convert-num', 'add-key', 'subtract-key', 'convert-char'] as const;
type Step = typeof STEPS[number];

interface Manifest { metadata: { name: string }; spec: { runtime: string; handler: string; code: { path: string } } }

const children: ChildProcess[] = [];
const dirs: string[] = [];
const urls = new Map<Step, string>();

/** Starts loader.py on the packed code of `step`'s manifest, loading its handler from the environment; resolves with its URL once ready. */
async function startStep(step: Step): Promise<string> {
  const manifest = load(fs.readFileSync(path.join(EXAMPLES, `${step}.yaml`), 'utf8')) as Manifest;
  expect(manifest.metadata.name).toBe(step);
  expect(manifest.spec.runtime).toBe('python3');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-example-${step}-`));
  dirs.push(dir);
  unpack(pack(path.join(EXAMPLES, manifest.spec.code.path)).bytes, dir);
  const loader = await startLoaderProcess('python3', dir, manifest.spec.handler);
  children.push(loader.child);
  return loader.url;
}

/** Calls one step: resolves with the status and the answer. */
async function call(step: Step, event: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${urls.get(step)}/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });
  return { status: r.status, body: await r.json() };
}

/** Calls the steps in order, each with the previous one's answer; fails on any answer but 200. */
async function chain(steps: Step[], event: unknown): Promise<unknown> {
  let value = event;
  for (const step of steps) {
    const r = await call(step, value);
    if (r.status !== 200) throw new Error(`${step} answered ${r.status}: ${JSON.stringify(r.body)}`);
    value = r.body;
  }
  return value;
}

const ENCRYPT: Step[] = ['move-right', 'convert-num', 'add-key', 'convert-char'];
const DECRYPT: Step[] = ['convert-num', 'subtract-key', 'convert-char', 'move-right'];

beforeAll(async () => {
  for (const step of STEPS) urls.set(step, await startStep(step));
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('the cipher chain', () => {
  it('runs each step on its own as its doc says, passing the other fields on', async () => {
    expect(await call('move-right', { text: 'Hello, xyz!', shift: 3, key: 5 })).toEqual({ status: 200, body: { text: 'Khoor, abc!', shift: 3, key: 5 } });
    expect(await call('move-right', { text: 'Khoor', shift: -3 })).toEqual({ status: 200, body: { text: 'Hello', shift: -3 } });
    expect(await call('convert-num', { text: 'Hi', key: 5 })).toEqual({ status: 200, body: { numbers: [72, 105], key: 5 } });
    expect(await call('add-key', { numbers: [72, 105], key: 5 })).toEqual({ status: 200, body: { numbers: [77, 110], key: 5 } });
    expect(await call('subtract-key', { numbers: [77, 110], key: 5 })).toEqual({ status: 200, body: { numbers: [72, 105], key: 5 } });
    expect(await call('convert-char', { numbers: [72, 105], key: 5 })).toEqual({ status: 200, body: { text: 'Hi', key: 5 } });
  });

  it.each([
    ['Hello, World!', 3, 5],
    ['attack at dawn', 13, 1000],
    ['Grüße, 世界 — zz', 25, 7],
    ['', 1, 1],
  ])('encrypts %j (shift %d, key %d) and decrypts it back', async (text, shift, key) => {
    const secret = await chain(ENCRYPT, { text, shift, key }) as { text: string; shift: number; key: number };
    expect(secret).toEqual({ text: expect.any(String), shift, key });
    if (text !== '') expect(secret.text).not.toBe(text);
    expect(await chain(DECRYPT, { ...secret, shift: -shift })).toEqual({ text, shift: -shift, key });
  });

  it.each([
    ['move-right', { shift: 3 }, 'ValueError: move_right: "text" is required (a string)'],
    ['move-right', { text: 'a', shift: '3' }, 'ValueError: move_right: "shift" must be an integer, got str'],
    ['move-right', { text: 'a', shift: true }, 'ValueError: move_right: "shift" must be an integer, got bool'],
    ['move-right', 'hello', 'ValueError: move_right: the event must be a JSON object with "text" and "shift", got str'],
    ['convert-num', { text: 42 }, 'ValueError: convert_num: "text" must be a string, got int'],
    ['convert-num', {}, 'ValueError: convert_num: "text" is required (a string)'],
    ['add-key', { numbers: [1, 2] }, 'ValueError: add_key: "key" is required (an integer)'],
    ['add-key', { numbers: [1, 'x'], key: 1 }, 'ValueError: add_key: "numbers" must be a list of integers'],
    ['subtract-key', { numbers: [1], key: 1.5 }, 'ValueError: subtract_key: "key" must be an integer, got float'],
    ['subtract-key', null, 'ValueError: subtract_key: the event must be a JSON object with "numbers" and "key", got NoneType'],
    ['convert-char', { numbers: 'abc' }, 'ValueError: convert_char: "numbers" must be a list of integers'],
    ['convert-char', { numbers: [72, -1] }, 'ValueError: convert_char: numbers[1] = -1 is not a Unicode character (0 to 0x10FFFF, no surrogates)'],
    ['convert-char', { numbers: [0xd800] }, 'ValueError: convert_char: numbers[0] = 55296 is not a Unicode character (0 to 0x10FFFF, no surrogates)'],
  ] as [Step, unknown, string][])('%s refuses %j with 500 and its message', async (step, event, message) => {
    const r = await call(step, event);
    expect(r.status).toBe(500);
    expect((r.body as { error: string }).error).toBe(message);
  });
});
