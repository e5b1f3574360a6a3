/**
 * Manifest validation: one function from an untrusted document to a typed object. Unknown fields are
 * errors that name the field (`spec.containers[0].imagePolicy`); in `warn` mode they become warnings
 * and are removed, the way `kubectl --validate=warn` reports and ignores them.
 */
import type { z } from 'zod';
import { ValidationError } from './errors';
import { hpaV1ToV2, isHpaV1 } from './hpa-v1';
import { kindOf, KINDS, type KindInfo } from './registry';
import type { KubeObject } from './meta';

export type ValidateMode = 'strict' | 'warn';

export interface Validated {
  kind: KindInfo;
  object: KubeObject;
  warnings: string[];
}

/** Validates one document. Throws ValidationError naming every problem at once. */
export function validateManifest(doc: unknown, mode: ValidateMode = 'strict'): Validated {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError('a manifest must be a mapping with apiVersion, kind and metadata');
  }
  const raw = isHpaV1(doc as Record<string, unknown>) ? hpaV1ToV2(doc as Record<string, unknown>) : doc as Record<string, unknown>;
  if (typeof raw.apiVersion !== 'string' || raw.apiVersion === '') throw new ValidationError('apiVersion not set');
  if (typeof raw.kind !== 'string' || raw.kind === '') throw new ValidationError('kind not set');
  const kind = kindOf(raw.apiVersion, raw.kind);
  if (!kind) {
    const same = KINDS.find((k) => k.kind === raw.kind);
    const hint = same ? ` (mk serves ${raw.kind} as apiVersion "${same.apiVersion}")` : ` (mk serves: ${KINDS.map((k) => k.kind).join(', ')})`;
    throw new ValidationError(`unknown kind "${raw.kind}" in version "${raw.apiVersion}"${hint}`);
  }
  const name = (raw.metadata as { name?: unknown } | undefined)?.name;
  const label = `${kind.kind}${typeof name === 'string' ? ` "${name}"` : ''}`;
  if (kind.readOnly) {
    throw new ValidationError(`${label} cannot be applied: ${kind.plural} are recorded by mk's own components and are read-only`);
  }

  const input: unknown = structuredClone(raw);
  const warnings: string[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const res = kind.schema.safeParse(input);
    if (res.success) return { kind, object: res.data as KubeObject, warnings };
    const unknownFields: { path: PropertyKey[]; key: string }[] = [];
    const other: string[] = [];
    for (const issue of res.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) unknownFields.push({ path: issue.path, key });
      } else {
        other.push(`${formatPath(issue.path)}: ${issue.message}`);
      }
    }
    const unknownMsgs = unknownFields.map((u) => `unknown field "${formatPath([...u.path, u.key])}"`);
    if (other.length > 0 || mode === 'strict' || pass === 1) {
      const issues = [...unknownMsgs, ...other];
      throw new ValidationError(`${label} is invalid: ${issues.join('; ')}`, issues);
    }
    warnings.push(...unknownMsgs);
    for (const u of unknownFields) deleteAt(input, [...u.path, u.key]);
  }
  /* c8 ignore next */
  throw new ValidationError(`${label} is invalid`);
}

/** A schema issue's path as messages name fields: `spec.containers[0].image`; `(root)` when empty. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

function deleteAt(obj: unknown, path: PropertyKey[]): void {
  let cur = obj as Record<PropertyKey, unknown>;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<PropertyKey, unknown>;
  delete cur[path[path.length - 1]];
}

/** The schema type of a kind, for callers that need it. */
export type SchemaOf<K extends KindInfo> = z.infer<K['schema']>;
