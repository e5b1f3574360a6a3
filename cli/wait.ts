/**
 * `mk wait`: waits, through the api's watch (mk.api.watch), until objects meet a condition, as
 * `kubectl wait` does: `--for=condition=Complete`, `--for=condition=Ready=false`, `--for=delete`,
 * `--for=jsonpath={.status.phase}=Running`. Each object met prints `KIND[.GROUP]/NAME condition
 * met`; a timeout prints kubectl's message and exits 1. `--for=create` waits for a named object
 * to exist.
 */
import { resourceName, type KindInfo, type KubeObject, type WatchEvent } from '../messages';
import { parseDuration } from '../messages/duration';
import type { Client } from './client';
import { CliError } from './errors';
import { streamWatch } from './watch-stream';

/** What `--for` asks. */
export type WaitFor =
  | { type: 'delete' }
  | { type: 'create' }
  | { type: 'condition'; condition: string; value: string }
  | { type: 'jsonpath'; path: (string | number)[]; expr: string; value?: string };

/** Parses `--for`; throws CliError naming what is wrong. */
export function parseWaitFor(text: string): WaitFor {
  if (text.toLowerCase() === 'delete') return { type: 'delete' };
  if (text.toLowerCase() === 'create') return { type: 'create' };
  if (text.toLowerCase().startsWith('condition=')) {
    const rest = text.slice('condition='.length);
    const [condition, value, ...more] = rest.split('=');
    if (!condition || more.length > 0 || value === '') throw new CliError(`--for=condition=NAME[=VALUE] expected, got "${text}"`);
    return { type: 'condition', condition, value: value ?? 'True' };
  }
  if (text.toLowerCase().startsWith('jsonpath=')) {
    const rest = text.slice('jsonpath='.length);
    const m = /^\{([^}]*)\}(?:=(.*))?$/.exec(rest) ?? /^([^=]*)(?:=(.*))?$/.exec(rest);
    const expr = m?.[1] ?? '';
    if (!expr.startsWith('.')) throw new CliError(`--for=jsonpath={.field.path}[=VALUE] expected, got "${text}"`);
    const path: (string | number)[] = [];
    for (const seg of expr.slice(1).split('.')) {
      const s = /^([^[\]]*)((?:\[\d+\])*)$/.exec(seg);
      if (!s || (!s[1] && !s[2])) throw new CliError(`unsupported jsonpath "${expr}": mk follows fields and [index] only`);
      if (s[1]) path.push(s[1]);
      for (const i of s[2].matchAll(/\[(\d+)\]/g)) path.push(Number(i[1]));
    }
    return { type: 'jsonpath', path, expr: `{${expr}}`, ...(m?.[2] !== undefined ? { value: m[2] } : {}) };
  }
  throw new CliError(`unrecognized condition: "${text}" (use --for=condition=NAME[=VALUE], --for=create, --for=delete or --for=jsonpath={.path}=VALUE)`);
}

/** Whether `obj` (null: it does not exist) meets `want`. */
export function waitMet(want: WaitFor, obj: KubeObject | null): boolean {
  if (want.type === 'delete') return obj === null;
  if (!obj) return false;
  if (want.type === 'create') return true;
  if (want.type === 'condition') {
    const conds = (obj.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
    return conds.some((c) => c.type?.toLowerCase() === want.condition.toLowerCase() && c.status?.toLowerCase() === want.value.toLowerCase());
  }
  let v: unknown = obj;
  for (const p of want.path) {
    if (v === null || typeof v !== 'object') return false;
    v = (v as Record<string | number, unknown>)[p];
  }
  if (v === undefined) return false;
  if (want.value === undefined) return true;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === want.value;
}

/** What to wait for: the objects, the condition, how long. */
export interface WaitInput {
  kind: KindInfo;
  namespace: string | undefined;
  /** Named objects; with none, those matching `selector` (or all, with `all`). */
  names: string[];
  selector?: string;
  all?: boolean;
  for: WaitFor;
  timeoutMs: number;
}

/** Parses `--timeout` (`30s`, `1m`, `0` checks once); throws CliError. */
export function parseTimeout(text: string): number {
  try {
    return parseDuration(text, '--timeout', { allowZero: true });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/**
 * Waits for each object in turn, sharing one deadline, and prints `... condition met` for each.
 * Resolves with the exit code: 0 when every object met the condition, 1 when one was missing (a
 * condition on an object that does not exist) or the time ran out, which it says on stderr.
 */
export async function waitObjects(client: Client, input: WaitInput, io: { out(t: string): void; err(t: string): void }): Promise<number> {
  const deadline = Date.now() + input.timeoutMs;
  let names = input.names;
  if (names.length === 0) {
    if (!input.selector && !input.all) throw new CliError('resource(s) were provided, but no name was specified: name them, or use -l or --all');
    const items = await client.api.list(input.kind, input.namespace, input.selector);
    names = items.map((o) => o.metadata.name);
    if (names.length === 0) throw new CliError('no matching resources found');
  }
  for (const name of names) {
    const label = resourceName(input.kind, name);
    const r = await waitOne(client, input, name, deadline);
    if (r === 'met') io.out(`${label} condition met\n`);
    else if (r === 'missing') {
      io.err(`Error from server (NotFound): ${input.kind.plural} "${name}" not found`);
      return 1;
    } else {
      const what = input.for.type === 'delete' ? 'delete' : 'the condition';
      io.err(`error: timed out waiting for ${what} on ${input.kind.plural}/${name}`);
      return 1;
    }
  }
  return 0;
}

/** Lists the one object, then watches it from the listing's revision until it is met or the deadline. */
async function waitOne(client: Client, input: WaitInput, name: string, deadline: number): Promise<'met' | 'missing' | 'timeout'> {
  const { kind, namespace } = input;
  const fieldSelector = `metadata.name=${name}`;
  const listed = await client.api.listAt(kind, namespace, undefined, fieldSelector);
  const first = listed.items.find((o) => o.metadata.name === name) ?? null;
  if (!first && input.for.type !== 'delete' && input.for.type !== 'create') return 'missing';
  if (waitMet(input.for, first)) return 'met';
  if (Date.now() >= deadline) return 'timeout';
  let settle: (r: 'met' | 'timeout') => void = () => undefined;
  const result = new Promise<'met' | 'timeout'>((resolve) => { settle = resolve; });
  const onObject = (obj: KubeObject | null) => { if (waitMet(input.for, obj)) settle('met'); };
  const handle = await streamWatch(client.bus, client.ctx.user, {
    kind, ...(kind.namespaced && namespace ? { namespace } : {}), name, resourceVersion: listed.resourceVersion,
  }, {
    onEvent: (ev: WatchEvent) => onObject(ev.type === 'DELETED' ? null : ev.object),
    relist: async () => {
      const again = await client.api.listAt(kind, namespace, undefined, fieldSelector);
      onObject(again.items.find((o) => o.metadata.name === name) ?? null);
      return again.resourceVersion;
    },
  });
  const timer = setTimeout(() => settle('timeout'), Math.max(0, deadline - Date.now()));
  try {
    return await Promise.race([result, handle.done.then(() => 'timeout' as const)]);
  } finally {
    clearTimeout(timer);
    await handle.stop();
  }
}
