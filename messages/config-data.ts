/**
 * The v1 ConfigMap and Secret kinds: named maps of keys to values that pods take their
 * environment from (https://kubernetes.io/docs/concepts/configuration/configmap/,
 * https://kubernetes.io/docs/concepts/configuration/secret/). Keys follow Kubernetes'
 * IsConfigMapKey; an object holds at most 1 MiB of data, as etcd's limit makes it there.
 */
import { z } from 'zod';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';

/** The most data one ConfigMap or Secret may hold (Kubernetes' MaxSecretSize, 1 MiB). */
export const MAX_DATA_BYTES = 1024 * 1024;
const MAX_KEY_LENGTH = 253;
const KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Why `key` cannot name an entry of a ConfigMap or Secret, or undefined when it can
 * (Kubernetes' IsConfigMapKey: the characters of a file name, and never `.`, `..` or `..x`).
 */
export function dataKeyError(key: string): string | undefined {
  if (key.length === 0) return 'a key must not be empty';
  if (key.length > MAX_KEY_LENGTH) return `a key must be no more than ${MAX_KEY_LENGTH} characters`;
  if (!KEY.test(key)) return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (regex [-._a-zA-Z0-9]+)";
  if (key === '.' || key === '..') return `a key must not be '${key}'`;
  if (key.startsWith('..')) return "a key must not start with '..'";
  return undefined;
}

/** Whether `v` is standard base64 with padding, as Kubernetes' JSON carries []byte. */
export function isBase64(v: string): boolean {
  return v.length % 4 === 0 && BASE64.test(v);
}

/** Bytes of a base64 value once decoded. */
export function base64Bytes(v: string): number {
  return Buffer.byteLength(v, 'base64');
}

type Ctx = z.core.$RefinementCtx;

function checkKeys(map: Record<string, string> | undefined, field: string, ctx: Ctx): void {
  for (const k of Object.keys(map ?? {})) {
    const bad = dataKeyError(k);
    if (bad) ctx.addIssue({ code: 'custom', path: [field], message: `invalid key ${JSON.stringify(k.slice(0, 80))}: ${bad}` });
  }
}

function checkBase64(map: Record<string, string> | undefined, field: string, ctx: Ctx): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    if (!isBase64(v)) ctx.addIssue({ code: 'custom', path: [field, k], message: 'must be base64 (standard alphabet, padded), as Kubernetes encodes bytes' });
  }
}

function checkSize(bytes: number, kind: string, ctx: Ctx): void {
  if (bytes > MAX_DATA_BYTES) {
    ctx.addIssue({ code: 'custom', path: [], message: `${kind} data is ${bytes} bytes: it must be no more than ${MAX_DATA_BYTES} bytes (1 MiB) in all` });
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export const ConfigMapSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('ConfigMap').describe('The kind of object: `ConfigMap`.'),
  metadata: ObjectMeta.describe("The config map's name, namespace, labels and the metadata the server keeps."),
  data: z.record(z.string(), z.string()).optional().describe(
    'Text values by key. Keys are made of letters, digits, `-`, `_` and `.`, at most 253 characters; '
    + 'a key may not be in both data and binaryData.',
  ),
  binaryData: z.record(z.string(), z.string()).optional().describe(
    'Byte values by key, written in base64. Pods take environment variables from data only.',
  ),
  immutable: z.boolean().optional().describe(
    'When true, data and binaryData can never change again, and immutable cannot be unset: '
    + 'delete and re-create the object to change it.',
  ),
}).superRefine((cm, ctx) => {
  checkKeys(cm.data, 'data', ctx);
  checkKeys(cm.binaryData, 'binaryData', ctx);
  checkBase64(cm.binaryData, 'binaryData', ctx);
  for (const k of Object.keys(cm.binaryData ?? {})) {
    if (cm.data && k in cm.data) ctx.addIssue({ code: 'custom', path: ['binaryData', k], message: `duplicate key ${JSON.stringify(k)}: it is in data too` });
  }
  checkSize(sum([
    ...Object.values(cm.data ?? {}).map((v) => Buffer.byteLength(v)),
    ...Object.values(cm.binaryData ?? {}).map(base64Bytes),
  ]), 'ConfigMap', ctx);
}).meta({ title: 'ConfigMap' });

/** The Secret types Kubernetes defines, each with the keys it requires. */
export const SECRET_REQUIRED_KEYS: Readonly<Record<string, readonly string[]>> = {
  Opaque: [],
  'kubernetes.io/service-account-token': [],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/basic-auth': [],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'bootstrap.kubernetes.io/token': [],
};

/** The value of a Secret's key, whether written in data (base64) or stringData. */
function secretValue(s: { data?: Record<string, string>; stringData?: Record<string, string> }, key: string): string | undefined {
  if (s.stringData && key in s.stringData) return s.stringData[key];
  const b = s.data?.[key];
  return b === undefined ? undefined : Buffer.from(b, 'base64').toString('utf8');
}

export const SecretSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Secret').describe('The kind of object: `Secret`.'),
  metadata: ObjectMeta.describe("The secret's name, namespace, labels and the metadata the server keeps."),
  type: z.string().min(1).optional().describe(
    'What the secret holds, which decides the keys it must have: Opaque (the default, any keys), '
    + 'kubernetes.io/basic-auth (username and/or password), kubernetes.io/dockerconfigjson (.dockerconfigjson, '
    + 'a registry login for imagePullSecrets), kubernetes.io/dockercfg, kubernetes.io/ssh-auth, kubernetes.io/tls, '
    + 'or a type of your own. It cannot change once created.',
  ),
  data: z.record(z.string(), z.string()).optional().describe(
    'Values by key, each written in base64 (`mk get secret -o yaml` shows them so). '
    + 'Keys are made of letters, digits, `-`, `_` and `.`, at most 253 characters.',
  ),
  stringData: z.record(z.string(), z.string()).optional().describe(
    'Values by key written as plain text, for convenience: on write they are encoded into data '
    + '(over a data key of the same name) and stringData itself is never stored.',
  ),
  immutable: z.boolean().optional().describe(
    'When true, data can never change again, and immutable cannot be unset: delete and re-create the object to change it.',
  ),
}).superRefine((s, ctx) => {
  checkKeys(s.data, 'data', ctx);
  checkKeys(s.stringData, 'stringData', ctx);
  checkBase64(s.data, 'data', ctx);
  const type = s.type ?? 'Opaque';
  const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
  for (const k of SECRET_REQUIRED_KEYS[type] ?? []) {
    if (!keys.has(k)) ctx.addIssue({ code: 'custom', path: ['data', k], message: `a secret of type ${type} must have key ${JSON.stringify(k)}` });
  }
  if (type === 'kubernetes.io/basic-auth' && !keys.has('username') && !keys.has('password')) {
    ctx.addIssue({ code: 'custom', path: ['data'], message: 'a secret of type kubernetes.io/basic-auth must have key "username" or "password"' });
  }
  for (const k of ['.dockerconfigjson', '.dockercfg']) {
    const readable = s.stringData?.[k] !== undefined || isBase64(s.data?.[k] ?? '-');
    const v = readable ? secretValue(s, k) : undefined;
    if (v === undefined) continue;
    try {
      JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', path: ['data', k], message: `${k} must hold JSON (a registry login such as {"auths":{...}})` });
    }
  }
  const merged = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(s.stringData ?? {})) merged[k] = Buffer.from(v).toString('base64');
  checkSize(sum(Object.values(merged).map(base64Bytes)), 'Secret', ctx);
}).meta({ title: 'Secret' });

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: Meta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: Meta;
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A Secret as stored: stringData encoded into data, type defaulted to Opaque, and stringData
 * taken out of the last applied configuration too (kubectl would keep it there in plain text).
 */
export function normalizeSecret(s: Secret): Secret {
  const { stringData, ...rest } = s;
  const data = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
  const out: Secret = { ...rest, type: s.type ?? 'Opaque' };
  const applied = s.metadata.annotations?.[LAST_APPLIED];
  if (applied?.includes('stringData')) {
    try {
      const parsed = JSON.parse(applied) as { stringData?: unknown };
      if (parsed && typeof parsed === 'object' && 'stringData' in parsed) {
        delete parsed.stringData;
        out.metadata = { ...s.metadata, annotations: { ...s.metadata.annotations, [LAST_APPLIED]: JSON.stringify(parsed) } };
      }
    } catch {
      // Not JSON: apply will say so when it reads it; nothing of stringData can be told apart in it.
    }
  }
  if (Object.keys(data).length > 0) out.data = data; else delete out.data;
  return out;
}

/**
 * A Secret as a reader that must never see its values is shown it (the dashboard): its metadata
 * without the last applied configuration (which holds the values apply sent), its type and
 * immutability, and each key of data with its size in place of its value (`<8 bytes>`), as
 * `mk describe secret` shows them. Such a value is not base64, so the object cannot be written
 * back by mistake. Any other object is returned as it is.
 */
export function withoutSecretValues<T extends { kind?: string; metadata?: Meta }>(o: T): T {
  if (o.kind !== 'Secret') return o;
  const { data, stringData, ...rest } = o as unknown as Secret;
  const out = { ...rest } as Secret;
  const annotations = o.metadata?.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _applied, ...others } = annotations;
    out.metadata = { ...o.metadata!, annotations: others };
  }
  const sizes: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) sizes[k] = `<${base64Bytes(v)} bytes>`;
  for (const [k, v] of Object.entries(stringData ?? {})) sizes[k] = `<${Buffer.byteLength(v)} bytes>`;
  if (data || stringData) out.data = sizes;
  return out as unknown as T;
}

/**
 * Why an update of an immutable ConfigMap or Secret is refused, or undefined when it may go on:
 * once immutable, data (and binaryData) cannot change and immutable cannot be unset. A Secret's
 * type never changes. (Kubernetes' ValidateConfigMapUpdate and ValidateSecretUpdate.)
 */
export function immutableUpdateError(
  kind: 'ConfigMap' | 'Secret',
  existing: { data?: unknown; binaryData?: unknown; immutable?: boolean; type?: string },
  next: { data?: unknown; binaryData?: unknown; immutable?: boolean; type?: string },
): string | undefined {
  const name = kind === 'ConfigMap' ? 'configmap' : 'secret';
  if (kind === 'Secret' && (existing.type ?? 'Opaque') !== (next.type ?? 'Opaque')) {
    return `type: field is immutable (${existing.type ?? 'Opaque'}): delete the ${name} and create it again to change its type`;
  }
  if (!existing.immutable) return undefined;
  if (!next.immutable) return `immutable: field is immutable when the ${name} is immutable: it cannot be unset`;
  const same = (a: unknown, b: unknown): boolean => stable(a ?? {}) === stable(b ?? {});
  if (!same(existing.data, next.data)) return `data: field is immutable when \`immutable\` is set: delete the ${name} and create it again to change its data`;
  if (!same(existing.binaryData, next.binaryData)) return `binaryData: field is immutable when \`immutable\` is set: delete the ${name} and create it again to change it`;
  return undefined;
}

function stable(v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
